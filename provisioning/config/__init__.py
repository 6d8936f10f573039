"""Configuration as code (contract section 1): ``apply_config`` reads a file,
``validate`` checks it into a plan of what the file asks for, and ``apply``
writes that plan, comparing before writing so a second apply changes nothing.

Entry points: ``load_file`` (path -> document), ``apply_document`` (document ->
``Changes``), ``ConfigError`` (carries every problem found, each naming its path).
"""

from provisioning.config.apply import Changes, apply_document
from provisioning.config.errors import ConfigError, Problem
from provisioning.config.loading import load_file

__all__ = ["Changes", "ConfigError", "Problem", "apply_document", "load_file"]
