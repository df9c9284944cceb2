"""Encrypting PIN pad (EPP): codec over the Sankyo frame layer, driver, device-class interface."""
