"""Mixed content: the http:// URLs an https page makes the browser fetch or submit to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Optional
from urllib.parse import urljoin, urlsplit

from .hops import Chain

ACTIVE, PASSIVE, FORM = "active", "passive", "form"
# Attributes that make the browser fetch something while showing the page.
# Plain links (<a href>, <link rel=canonical>) are not fetched: not mixed content.
_FETCHED_ATTRIBUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "script": (("src", ACTIVE),),
    "iframe": (("src", ACTIVE),),
    "frame": (("src", ACTIVE),),
    "object": (("data", ACTIVE),),
    "embed": (("src", ACTIVE),),
    "img": (("src", PASSIVE), ("srcset", PASSIVE)),
    "source": (("src", PASSIVE), ("srcset", PASSIVE)),
    "audio": (("src", PASSIVE),),
    "video": (("src", PASSIVE), ("poster", PASSIVE)),
    "track": (("src", PASSIVE),),
    "form": (("action", FORM),),
    "button": (("formaction", FORM),),
    "input": (("formaction", FORM),),  # and src, for type=image
}
_ACTIVE_LINK_RELS = frozenset({"stylesheet", "preload", "modulepreload", "manifest"})
_PASSIVE_LINK_RELS = frozenset({"icon", "apple-touch-icon"})


@dataclass(frozen=True)
class MixedContent:
    """An http:// URL that an https page makes the browser fetch or submit to."""

    url: str
    tag: str
    attribute: str
    #: ACTIVE (scripts, styles, frames: blocked), PASSIVE (images, media) or FORM.
    kind: str


class _SubresourceParser(HTMLParser):
    """Collects the URLs a page fetches, resolved against the page or its <base>."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = page_url
        self.has_base = False
        #: A <meta http-equiv> Content-Security-Policy has upgrade-insecure-requests.
        self.upgraded = False
        self.found: list[MixedContent] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        values = {name: value for name, value in attrs if value is not None}
        if tag == "base" and "href" in values and not self.has_base:
            self.base, self.has_base = urljoin(self.base, values["href"].strip()), True
        elif tag == "meta" and values.get("http-equiv", "").lower() == "content-security-policy":
            self.upgraded |= upgrades_insecure_requests(values.get("content", ""))
        for attribute, kind in _fetched_attributes(tag, values):
            for reference in _references(attribute, values.get(attribute, "")):
                url = urljoin(self.base, reference)
                if urlsplit(url).scheme.lower() == "http":
                    self.found.append(MixedContent(url, tag, attribute, kind))


def _fetched_attributes(tag: str, values: dict[str, str]) -> tuple[tuple[str, str], ...]:
    if tag == "link":
        rels = set(values.get("rel", "").lower().split())
        kind = ACTIVE if rels & _ACTIVE_LINK_RELS else PASSIVE if rels & _PASSIVE_LINK_RELS else ""
        return (("href", kind),) if kind else ()
    if tag == "input" and values.get("type", "").lower() == "image":
        return (("formaction", FORM), ("src", PASSIVE))
    return _FETCHED_ATTRIBUTES.get(tag, ())


def _references(attribute: str, value: str) -> list[str]:
    if attribute == "srcset":
        # "a.png 1x, http://cdn/b.png 2x": the URL is each candidate's first word.
        return [candidate.split()[0] for candidate in value.split(",") if candidate.split()]
    return [value.strip()] if value.strip() else []


def upgrades_insecure_requests(policy: str) -> bool:
    """Whether a Content-Security-Policy value has ``upgrade-insecure-requests``."""
    directives = re.split(r"[;,]", policy.lower())
    return any(directive.split()[:1] == ["upgrade-insecure-requests"] for directive in directives)


@dataclass(frozen=True)
class MixedContentScan:
    """The http:// URLs fetched by the final https page, if it is HTML; as JSON, its fields."""

    page: Optional[str]
    #: The page's CSP makes browsers fetch them over https instead.
    upgrade_insecure_requests: bool
    items: tuple[MixedContent, ...]


def scan_mixed_content(chain: Chain) -> MixedContentScan:
    """Parse the final page, when it is HTML served over https."""
    last = chain.hops[-1]
    if not last.body:
        return MixedContentScan(None, False, ())
    parser = _SubresourceParser(last.url)
    parser.feed(last.body)
    parser.close()
    upgraded = parser.upgraded or upgrades_insecure_requests(last.content_security_policy)
    return MixedContentScan(last.url, upgraded, tuple(dict.fromkeys(parser.found)))
