"""A web page or an RSS / Atom feed fetched by URL (`qa index URL`): httpx with timeouts, a size limit and a
clear error when the address cannot be reached (offline, say). A page becomes one article whose id is its
canonical URL; a feed, one article per entry, each with its own id."""

from __future__ import annotations

import logging
import re

from qa.ingest.decoding import decode

logger = logging.getLogger(__name__)

MAX_FETCH_BYTES = 10 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 20.0
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


def is_url(source: object) -> bool:
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


def fetch_text(url: str, max_bytes: int = MAX_FETCH_BYTES, timeout: float = FETCH_TIMEOUT_SECONDS
               ) -> tuple[str, str]:
    """GET a URL; return (the final URL after redirects, its text). ValueError saying what went wrong."""
    import httpx

    try:
        with httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=5,
                          headers={"User-Agent": "newsqa (+https://pypi.org/project/newsqa/)"}) as client, \
                client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise ValueError(f"{url} answered HTTP {response.status_code}")
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise ValueError(f"{url} is {declared / 1_048_576:.1f} MB, over the "
                                 f"{max_bytes / 1_048_576:.1f} MB limit")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise ValueError(f"{url} is over the {max_bytes / 1_048_576:.1f} MB limit")
            final_url = str(response.url)
            header_charset = _CHARSET.search(response.headers.get("content-type", ""))
    except httpx.TimeoutException as error:
        raise ValueError(f"{url} did not answer within {timeout:.0f} s ({error.__class__.__name__})") from error
    except httpx.HTTPError as error:
        raise ValueError(f"could not fetch {url}: {error} (is this machine offline, or the address wrong?)") \
            from error
    raw = bytes(body)
    if header_charset:
        try:
            return final_url, raw.decode(header_charset.group(1))
        except (LookupError, UnicodeDecodeError):
            logger.info("%s: its declared charset %s does not read it; detecting", url, header_charset.group(1))
    return final_url, decode(raw)
