"""Paired multimodal datasets and where they come from."""

from cchlib.data.paired import PairedDataset

__all__ = ["PairedDataset"]
