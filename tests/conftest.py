"""Suite-wide settings: strict mode, so a bug inside layersim that ends a simulated process fails the test."""

import os

os.environ["LAYERSIM_STRICT"] = "1"
