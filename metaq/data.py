"""The record every layer reads and writes: one reasoning example.

The bottom of the package: readers (:mod:`metaq.io`) produce :class:`Example` objects and
extractors (:mod:`metaq.features`) consume them, so neither needs the other's modules.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Example:
    """One reasoning example.

    Attributes
    ----------
    id : str
        Stable identifier (from the data, or ``<file stem>:<line>``).
    question : str
        The prompt or problem.
    reasoning : str
        The reasoning trace (chain of thought).
    answer : str
        The final answer or response.
    domain : str
        Optional domain label (``""`` when unknown).
    location : str
        Where the record was read, ``<file>:<line>``, for messages.
    """

    id: str
    question: str
    reasoning: str
    answer: str = ""
    domain: str = ""
    location: str = field(default="", compare=False)

    def content_hash(self) -> str:
        """Hash of the content (not the id or location): equal texts share cached results."""
        payload = "\x1f".join((self.question, self.reasoning, self.answer, self.domain))
        return hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()
