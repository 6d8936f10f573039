"""Problems found in a configuration file, each naming the path of the bad value."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self):
        text = f"{self.path}: {self.message}" if self.path else self.message
        # Lone surrogates (possible in JSON) cannot be printed: show them escaped.
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


class ConfigError(Exception):
    """Raised with every problem found; nothing has been applied."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
