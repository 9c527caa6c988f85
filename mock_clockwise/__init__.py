"""mock_clockwise"""
