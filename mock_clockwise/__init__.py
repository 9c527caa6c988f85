"""mock_clockwise: a Flask SCIM 2.0 service provider modelling Clockwise (via WorkOS).

`from mock_clockwise.app import create_app` builds an in-process mock; `python -m mock_clockwise`
runs it on waitress. The store (`store.py`) and Clockwise's rules (`plan.py`) have no web imports.
"""
