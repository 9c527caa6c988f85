"""mock_okta"""
