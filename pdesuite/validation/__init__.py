"""Validation of trained surrogates against reference data (`pdesuite validate`)."""
