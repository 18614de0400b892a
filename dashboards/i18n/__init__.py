"""One catalogue for every word the dashboard shows, in zh-CN and English.

Pages and charts never hold display strings: they ask `Catalogue.text` for a key, and
`Catalogue.name` for a code that comes from the data (family, exception type, channel ...),
falling back to the code itself when the catalogue does not know it yet (an open vocabulary:
a marketplace or carrier of another country shows as the source wrote it).

The names of sub-types, families, root causes and rule inputs, and the actions root causes
call for, come from the exception catalogue (dbt_project/seeds, read by pipelines.catalogue):
the dbt models, the merchant reports and these pages share them.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from pipelines import catalogue as exception_catalogue

LANGUAGES = {"zh-CN": "zh_CN.yml", "en": "en.yml"}
LANGUAGE_NAMES = {"zh-CN": "简体中文", "en": "English"}
DEFAULT_LANGUAGE = "zh-CN"
_CATALOGUE_DIR = Path(__file__).resolve().parent

# Data columns whose values are codes the catalogue translates, and the section holding them.
CODE_COLUMNS = {
    "family": "family",
    "exception_type": "exception_type",
    "root_cause": "root_cause",
    "dimension": "dimension",
    "top_dimension": "dimension",
    "key_type": "key_type",
    "channel": "channel",
    "carrier": "carrier",
    "priority": "priority",
    "owner_team": "owner_team",
    "resolution": "resolution",
    "source": "source",
    "status": "status",
    "domain": "domain",
    "severity": "severity",
    "input": "input",
    "kind": "kind",
    # the risk marts: the exception an open order or SKU is heading for, and an order's stage
    "risk_type": "exception_type",
    "stage": "stage",
}


def configured_language() -> str:
    """The default language: env var OEX_LANGUAGE (zh-CN or en), else zh-CN."""
    wanted = (os.environ.get("OEX_LANGUAGE") or DEFAULT_LANGUAGE).strip()
    aliases = {"zh": "zh-CN", "zh_CN": "zh-CN", "zh-cn": "zh-CN", "en-US": "en", "en_US": "en"}
    wanted = aliases.get(wanted, wanted)
    return wanted if wanted in LANGUAGES else DEFAULT_LANGUAGE


@cache
def _load(language: str) -> dict:
    with (_CATALOGUE_DIR / LANGUAGES[language]).open(encoding="utf-8") as handle:
        texts = yaml.safe_load(handle)
    return texts | _catalogue_names(language)


def _catalogue_names(language: str) -> dict[str, dict[str, str]]:
    """The sections the exception catalogue names, in one language."""
    return {
        "exception_type": {
            code: kind.names[language]
            for code, kind in exception_catalogue.exception_types().items()
        },
        "family": {
            code: family.names[language] for code, family in exception_catalogue.families().items()
        },
        "root_cause": {
            code: cause.names[language] for code, cause in exception_catalogue.root_causes().items()
        },
        "action": {
            code: cause.actions[language]
            for code, cause in exception_catalogue.root_causes().items()
        },
        "input": {
            code: rule_input.names[language]
            for code, rule_input in exception_catalogue.rule_inputs().items()
        },
    }


class Catalogue:
    """The texts of one language."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._texts = _load(self.language)

    def text(self, key: str, **values: object) -> str:
        """The text at a dotted key, with `{placeholders}` filled in."""
        node: object = self._texts
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"'{key}' is not in the {self.language} catalogue")
            node = node[part]
        return str(node).format(**values) if values else str(node)

    def name(self, section: str, code: object) -> str:
        """Display name of a code from the data; the code itself when not catalogued."""
        if code is None or (isinstance(code, float) and pd.isna(code)):
            return ""
        names = self._texts.get(section, {})
        key = str(code).lower() if isinstance(code, bool) else str(code)
        return str(names.get(key, code))

    def names(self, section: str) -> dict[str, str]:
        return dict(self._texts.get(section, {}))

    def column(self, column: str) -> str:
        return str(self._texts["column"].get(column, column))

    def action(self, root_cause: object, fallback: object) -> str:
        """The suggested action for a root cause, in this language when catalogued."""
        actions = self._texts.get("action", {})
        if root_cause in actions:
            return str(actions[root_cause])
        return "" if fallback is None or pd.isna(fallback) else str(fallback)

    def risk_action(self, exception_type: object, text: object) -> str:
        """What to do for an open order or SKU heading for a sub-type, in this language. The
        risk marts carry the catalogue's English guideline or action for that sub-type; it is
        shown in this language, a text the catalogue does not hold as written."""
        kind = exception_catalogue.exception_types().get(str(exception_type))
        written = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
        if kind is None:
            return written
        for texts in (kind.guidelines, kind.actions):
            if written in texts.values():
                return texts[self.language]
        return written or kind.guidelines[self.language]

    def event_name(self, code: object, source: object = None) -> str:
        """A timeline event: an order, tracking, handling or feedback event, or (source
        `exception`) an exception type. Some codes are both (a customer's wrong_item report
        and the wrong_item exception), so the source decides."""
        events = self._texts.get("event_type", {})
        if source != "exception" and code in events:
            return str(events[code])
        return self.name("exception_type", code)

    def dimension_value(self, dimension: object, value: object) -> str:
        """A dimension's value for people: channels and carriers are codes with names;
        merchants, warehouses, provinces and SKUs are shown as they are."""
        if dimension in ("channel", "carrier"):
            return self.name(str(dimension), value)
        return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)

    def localise(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy for people: codes turned into names and columns into headers."""
        shown = frame.copy()
        for column in shown.columns:
            section = CODE_COLUMNS.get(column)
            if section is not None:
                shown[column] = shown[column].map(lambda code, s=section: self.name(s, code))
            elif shown[column].dtype == bool:
                shown[column] = shown[column].map(lambda flag: self.name("boolean", flag))
        if "event_type" in shown.columns:
            sources = frame["source"] if "source" in frame.columns else [None] * len(frame)
            shown["event_type"] = [
                self.event_name(code, source)
                for code, source in zip(frame["event_type"], sources, strict=True)
            ]
        for dimension, value in (
            ("dimension", "dimension_value"),
            ("top_dimension", "top_dimension_value"),
        ):
            if dimension in frame.columns and value in frame.columns:
                shown[value] = [
                    self.dimension_value(d, v)
                    for d, v in zip(frame[dimension], frame[value], strict=True)
                ]
        if "suggested_action" in shown.columns and "root_cause" in frame.columns:
            shown["suggested_action"] = [
                self.action(cause, text)
                for cause, text in zip(frame["root_cause"], frame["suggested_action"], strict=True)
            ]
        elif "suggested_action" in shown.columns and "risk_type" in frame.columns:
            shown["suggested_action"] = [
                self.risk_action(code, text)
                for code, text in zip(frame["risk_type"], frame["suggested_action"], strict=True)
            ]
        return shown.rename(columns=self.column)
