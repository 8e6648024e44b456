"""Threads (graph.threads.net, a login of its own): text, image and carousel posts through
containers, connected with the generic OAuth connect flow (``apps.networks.connect``)."""

from apps.networks.threads.network import Threads

__all__ = ["Threads"]
