"""Surrogates: training objectives behind one interface (`base.Surrogate`), one method per file."""
