"""Earmark: audiobook acquisition for qBittorrent and Audiobookshelf."""

__version__ = "0.1.0"
