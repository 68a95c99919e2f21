"""vividly-ray: a student's question in, a narrated and captioned explainer video out.

This package is the pure core: domain values, the pipeline and the provider adapters.
It never imports ``ray``; the Ray layer lives in the top-level ``actors`` package.
"""

__version__ = "0.1.0"
