"""An agency's own reads into the store: file imports (the workbench layout, OpenALPR/Rekor agent JSON,
Frigate events, any vendor CSV through a TOML mapping) and the live feed's HTTP receiver. Everything here
only shapes rows; the database validates, de-duplicates, stores and audits them (api.finish_import,
api.feed_reads)."""

from .formats import FORMATS, ReadBatch, detect_format, parse_file
from .mapping import Mapping, load_mapping

__all__ = ["FORMATS", "Mapping", "ReadBatch", "detect_format", "load_mapping", "parse_file"]
