"""Torznab XML as Jackett and Prowlarr write it, hostile XML, and the error mapping.

The documents below are written the way the servers' own code renders them (Jackett
`ResultPage.ToXml`, Prowlarr `NewznabResults.ToXml`, both `CreateErrorXML`), not by the
test doubles, so a mistake shared by a double and the parser cannot hide.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gui.clients.errors import ProtocolError
from gui.clients.torznab import (
    MAX_FEED_ITEMS,
    MalformedFeedError,
    RateLimitedError,
    TorznabApiError,
    TorznabAuthError,
    TorznabCaps,
    TorznabClient,
    UnsafeXmlError,
    choose_categories,
    error_from_xml,
    feed_name,
    magnet_info_hash,
    normalize_info_hash,
    parse_caps,
    parse_feed,
    parse_xml,
    torznab_endpoint,
)

HASH = "0123456789abcdef0123456789abcdef01234567"

JACKETT_RESULTS = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:torznab="http://torznab.com/schemas/2015/feed">
  <channel>
    <atom:link href="http://127.0.0.1:9117/" rel="self" type="application/rss+xml" />
    <title>AudioBook Bay</title>
    <description>AudioBook Bay (ABB) is a public Torrent Tracker for AUDIOBOOKS</description>
    <link>https://audiobookbay.is/</link>
    <language>en-US</language>
    <category>search</category>
    <item>
      <title>Frank Herbert - Dune (Unabridged) [M4B] {{Scott Brick}}</title>
      <guid>https://audiobookbay.is/abss/dune-frank-herbert/</guid>
      <jackettindexer id="audiobookbay">AudioBook Bay</jackettindexer>
      <type>public</type>
      <comments>https://audiobookbay.is/abss/dune-frank-herbert/</comments>
      <pubDate>Sat, 14 Mar 2015 17:10:42 -0400</pubDate>
      <size>1073741824</size>
      <files>3</files>
      <grabs>120</grabs>
      <description />
      <link>magnet:?xt=urn:btih:{HASH}&amp;dn=Dune</link>
      <category>3030</category>
      <enclosure url="magnet:?xt=urn:btih:{HASH}&amp;dn=Dune" length="1073741824" type="application/x-bittorrent" />
      <torznab:attr name="category" value="3030" />
      <torznab:attr name="category" value="100030" />
      <torznab:attr name="seeders" value="42" />
      <torznab:attr name="peers" value="50" />
      <torznab:attr name="magneturl" value="magnet:?xt=urn:btih:{HASH}&amp;dn=Dune" />
      <torznab:attr name="infohash" value="{HASH.upper()}" />
      <torznab:attr name="downloadvolumefactor" value="0" />
      <torznab:attr name="uploadvolumefactor" value="1" />
    </item>
    <item>
      <title>Dune.Messiah.by.Frank.Herbert.MP3.64kbps</title>
      <guid>https://audiobookbay.is/abss/dune-messiah/</guid>
      <jackettindexer id="audiobookbay">AudioBook Bay</jackettindexer>
      <pubDate>Sun, 15 Mar 2015 10:00:00 +0000</pubDate>
      <size>300000000</size>
      <description />
      <link>http://127.0.0.1:9117/dl/audiobookbay/?jackett_apikey=SECRET&amp;path=abc&amp;file=Dune</link>
      <enclosure url="http://127.0.0.1:9117/dl/audiobookbay/?jackett_apikey=SECRET&amp;path=abc&amp;file=Dune" length="300000000" type="application/x-bittorrent" />
      <torznab:attr name="category" value="3030" />
      <torznab:attr name="seeders" value="3" />
      <torznab:attr name="peers" value="3" />
    </item>
    <item>
      <title></title>
      <guid>untitled</guid>
    </item>
  </channel>
</rss>""".encode()  # noqa: E501 - documents as the servers write them

PROWLARR_RESULTS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="1.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:torznab="http://torznab.com/schemas/2015/feed">
  <channel>
    <atom:link rel="self" type="application/rss+xml" />
    <title>Prowlarr</title>
    <item>
      <title>Project Hail Mary - Andy Weir [M4B]</title>
      <description />
      <guid>https://tracker.invalid/t/77</guid>
      <prowlarrindexer id="4">MyAnonamouse</prowlarrindexer>
      <comments>https://tracker.invalid/t/77</comments>
      <pubDate>Mon, 01 Jan 2024 00:00:00 +0000</pubDate>
      <size>734003200</size>
      <link>magnet:?xt=urn:btih:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567&amp;dn=PHM</link>
      <category>3030</category>
      <enclosure url="magnet:?xt=urn:btih:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567&amp;dn=PHM" length="734003200" type="application/x-bittorrent" />
      <torznab:attr name="category" value="3030" />
      <torznab:attr name="seeders" value="9" />
      <torznab:attr name="files" value="1" />
      <torznab:attr name="grabs" value="77" />
      <torznab:attr name="peers" value="12" />
      <torznab:attr name="downloadvolumefactor" value="1" />
      <torznab:attr name="uploadvolumefactor" value="1" />
    </item>
  </channel>
</rss>"""  # noqa: E501 - documents as the servers write them

CAPS = b"""<?xml version="1.0" encoding="UTF-8"?>
<caps>
  <server title="Jackett" />
  <limits default="100" max="100" />
  <searching>
    <search available="yes" supportedParams="q" />
    <tv-search available="no" supportedParams="q" />
    <book-search available="yes" supportedParams="q,title,author" />
  </searching>
  <categories>
    <category id="3000" name="Audio">
      <subcat id="3030" name="Audio/Audiobook" />
    </category>
    <category id="100030" name="Audiobooks" />
  </categories>
</caps>"""


def caps_with(
    book: str,
    categories: str = '<category id="3000" name="Audio"><subcat id="3030" name="A" /></category>',
) -> TorznabCaps:
    available = "yes" if book else "no"
    return parse_caps(
        parse_xml(
            f"""<caps><searching><search available="yes" supportedParams="q" />
            <book-search available="{available}" supportedParams="{book}" /></searching>
            <categories>{categories}</categories></caps>""".encode()
        )
    )


# ---- results ------------------------------------------------------------------------------


def test_jackett_item_fields_are_all_mapped() -> None:
    items = parse_feed(parse_xml(JACKETT_RESULTS))
    assert len(items) == 2  # the untitled item is dropped, as Jackett's IsValidRelease does
    dune = items[0]
    assert dune.title == "Frank Herbert - Dune (Unabridged) [M4B] {Scott Brick}"
    assert dune.guid == "https://audiobookbay.is/abss/dune-frank-herbert/"
    assert dune.comments == dune.guid
    assert dune.publish_date == datetime(2015, 3, 14, 21, 10, 42, tzinfo=UTC)
    assert dune.size == 1073741824
    assert dune.enclosure_length == 1073741824
    assert dune.enclosure_type == "application/x-bittorrent"
    assert dune.categories == (3030, 100030)
    assert (dune.seeders, dune.peers, dune.files, dune.grabs) == (42, 50, 3, 120)
    assert dune.info_hash == HASH
    assert dune.magnet_url is not None and dune.magnet_url.startswith("magnet:")
    assert dune.download_volume_factor == 0.0 and dune.upload_volume_factor == 1.0
    assert (dune.origin_id, dune.origin_name) == ("audiobookbay", "AudioBook Bay")

    release = dune.to_release("the feed")
    assert release.indexer == "AudioBook Bay"
    assert release.indexer_id is None  # Jackett ids are names, not Prowlarr ids
    assert (release.seeders, release.leechers) == (42, 8)  # peers = seeders + leechers
    assert release.magnet == dune.magnet_url
    assert release.download_url is None
    assert release.info_hash == HASH
    assert release.files == 3 and release.grabs == 120

    messiah = items[1].to_release("the feed")
    assert messiah.magnet is None
    assert messiah.download_url is not None and "/dl/audiobookbay/" in messiah.download_url
    assert messiah.info_hash is None
    assert (messiah.seeders, messiah.leechers) == (3, 0)


def test_prowlarr_feed_puts_the_magnet_in_link_and_attrs_for_files() -> None:
    (item,) = parse_feed(parse_xml(PROWLARR_RESULTS))
    assert item.magnet_url is None  # Prowlarr emits no magneturl
    release = item.to_release("Prowlarr indexer 4")
    assert release.magnet is not None and release.magnet.startswith("magnet:?xt=urn:btih:")
    assert release.info_hash == magnet_info_hash(release.magnet)
    assert release.info_hash is not None and len(release.info_hash) == 40
    assert (release.files, release.grabs) == (1, 77)
    assert (release.seeders, release.leechers) == (9, 3)
    assert release.indexer == "MyAnonamouse" and release.indexer_id == 4
    assert release.categories == (3030,)


def test_info_hash_forms() -> None:
    assert normalize_info_hash(HASH.upper()) == HASH
    base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    assert normalize_info_hash(base32) == normalize_info_hash(base32.lower())
    assert normalize_info_hash("not-a-hash") is None
    assert magnet_info_hash(f"magnet:?dn=x&xt=urn:btih:{HASH}") == HASH
    assert magnet_info_hash("magnet:?dn=nohash") is None


def test_a_document_that_is_not_a_result_list_is_refused() -> None:
    with pytest.raises(MalformedFeedError, match="not a Torznab result list"):
        parse_feed(parse_xml(b"<html><body>router</body></html>"))


# ---- hostile and broken XML ---------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss><channel><item><title>&lol9;</title></item></channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss><channel><item><title>&xxe;</title></item></channel></rss>"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "xxe"])
def test_entity_declarations_are_refused_before_expansion(
    document: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused by the byte scan: no XML parser is ever made, so nothing is expanded."""
    from xml.etree import ElementTree

    made: list[object] = []

    def no_parser(*args: object, **kwargs: object) -> object:
        made.append(args)
        raise AssertionError("an XML parser was made for a document that declares entities")

    monkeypatch.setattr(ElementTree, "XMLParser", no_parser)
    with pytest.raises(UnsafeXmlError, match="refuses to expand"):
        parse_xml(document)
    assert made == []


def test_a_doctype_the_byte_scan_cannot_see_is_refused_by_the_parser() -> None:
    """UTF-16 hides `<!DOCTYPE` from a byte search; expat's doctype hook still stops it."""
    document = EXTERNAL_ENTITY.replace(b'<?xml version="1.0"?>', b"").decode()
    encoded = ('<?xml version="1.0" encoding="UTF-16"?>' + document).encode("utf-16")
    assert b"<!DOCTYPE" not in encoded
    with pytest.raises(UnsafeXmlError):
        parse_xml(encoded)


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?>\n<rss version="2.0"><channel><item><title>Broken',
        b"<rss><channel><item><title>&undefined;</title></item></channel></rss>",
        b"<<<>>>",
    ],
)
def test_malformed_xml_is_a_protocol_error_in_words(document: bytes) -> None:
    with pytest.raises(MalformedFeedError, match="not Torznab XML") as caught:
        parse_xml(document)
    assert isinstance(caught.value, ProtocolError)


# ---- errors --------------------------------------------------------------------------------


def _error(xml: bytes, status: int = 200, retry_after: str | None = None) -> Exception:
    return error_from_xml(
        parse_xml(xml),
        status=status,
        retry_after=retry_after,
        service="feed",
        url="http://j/",
        endpoint="t=search",
    )


def test_jackett_bad_key_is_an_auth_error_though_http_200() -> None:
    error = _error(
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<error code="100" description="Invalid API Key" />'
    )
    assert isinstance(error, TorznabAuthError)
    assert (error.code, error.description, error.status) == (100, "Invalid API Key", 200)
    assert "wrong API key" in error.message


@pytest.mark.parametrize(("code", "meaning"), [(101, "suspended"), (102, "privileges")])
def test_other_credential_codes_are_auth_errors(code: int, meaning: str) -> None:
    error = _error(f'<error code="{code}" description="Account problem" />'.encode())
    assert isinstance(error, TorznabAuthError) and error.code == code


@pytest.mark.parametrize(
    ("code", "status"), [(200, 400), (201, 200), (202, 400), (203, 400), (910, 200)]
)
def test_parameter_and_function_errors_carry_code_and_description(code: int, status: int) -> None:
    error = _error(
        f'<error code="{code}" description="Incorrect parameter (imdbid)" />'.encode(), status
    )
    assert isinstance(error, TorznabApiError)
    assert error.code == code and error.status == status
    assert error.message.startswith(f"Torznab error {code}: Incorrect parameter (imdbid)")


def test_a_stack_trace_description_is_cut_to_its_first_line() -> None:
    trace = "System.Exception: tracker down&#xA;   at Jackett.Common.Indexers.X.PerformQuery()"
    error = _error(f'<error code="900" description="{trace}" />'.encode(), 400)
    assert isinstance(error, TorznabApiError)
    assert error.description == "System.Exception: tracker down"
    assert "PerformQuery" not in error.message and "unknown error" in error.message


def test_rate_limit_says_when_to_retry() -> None:
    error = _error(
        b'<error code="429" description="User configurable Indexer Query Limit of 10 in last '
        b'24 hour(s) reached." />',
        429,
        "3600",
    )
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 3600
    assert error.retry_at is not None and error.retry_at > datetime.now(UTC)
    assert "try again in 60 min" in error.message


def test_rate_limit_as_jackett_sends_it_code_900_http_429() -> None:
    error = _error(b'<error code="900" description="Request limit reached" />', 429, "90")
    assert isinstance(error, RateLimitedError) and error.code == 900
    assert "in 90 s" in error.message


# ---- caps and queries ---------------------------------------------------------------------


def test_caps_are_read() -> None:
    caps = parse_caps(parse_xml(CAPS))
    assert caps.server_title == "Jackett"
    assert (caps.limits_max, caps.limits_default) == (100, 100)
    assert caps.available("search") and caps.available("book-search")
    assert not caps.available("tv-search")
    assert caps.book_params == ("q", "title", "author")
    assert caps.category_ids == {3000, 3030, 100030}


def test_caps_is_not_an_rss_answer() -> None:
    with pytest.raises(MalformedFeedError, match="not Torznab capabilities"):
        parse_caps(parse_xml(b"<rss><channel /></rss>"))


def test_book_search_sends_author_and_title_apart() -> None:
    params = TorznabClient.search_params(
        caps_with("q,title,author"), "Dune Herbert", author="Frank Herbert", title="Dune"
    )
    assert params == {
        "t": "book",
        "author": "Frank Herbert",
        "title": "Dune",
        "cat": "3030",
        "limit": "100",
    }


def test_book_search_with_title_only_puts_the_author_in_q() -> None:
    params = TorznabClient.search_params(
        caps_with("q,title"), "Dune Herbert", author="Frank Herbert", title="Dune"
    )
    assert params["t"] == "book" and params["title"] == "Dune" and params["q"] == "Frank Herbert"
    assert "author" not in params


@pytest.mark.parametrize("book", ["", "q"])
def test_without_book_params_free_text_search(book: str) -> None:
    params = TorznabClient.search_params(
        caps_with(book), "Dune Herbert", author="Frank Herbert", title="Dune"
    )
    assert params == {"t": "search", "q": "Dune Herbert", "cat": "3030", "limit": "100"}


def test_without_caps_search_as_asked() -> None:
    params = TorznabClient.search_params(None, "Dune Herbert", author="Frank Herbert", title="Dune")
    assert params["t"] == "search" and params["cat"] == "3030"


@pytest.mark.parametrize(
    ("available", "chosen"),
    [
        ({3000, 3030}, (3030,)),
        ({3000, 3010}, (3000,)),
        ({5000, 7020}, ()),
        (set(), (3030,)),
    ],
)
def test_categories_follow_what_the_indexer_lists(
    available: set[int], chosen: tuple[int, ...]
) -> None:
    assert choose_categories((3030,), available) == chosen


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("http://j:9117/api/v2.0/indexers/audiobookbay/results/torznab/", "audiobookbay (Jackett)"),
        ("http://p:9696/4/", "Prowlarr indexer 4"),
        ("http://p:9696/api/v1/indexer/7/newznab", "Prowlarr indexer 7"),
        ("http://feeds.example/rss", "feeds.example"),
    ],
)
def test_feed_names(url: str, name: str) -> None:
    assert feed_name(torznab_endpoint(url)) == name


ANIMETOSHO_ITEM = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:torznab="http://torznab.com/schemas/2015/feed"><channel>
  <item>
    <title>[Group] Some Audiobook - 01 [MP3]</title>
    <link>https://animetosho.org/view/group-some-audiobook-01.n1234567</link>
    <guid isPermaLink="true">https://animetosho.org/view/group-some-audiobook-01.n1234567</guid>
    <enclosure url="https://animetosho.org/storage/torrent/abcd/Some%20Audiobook.torrent"
      type="application/x-bittorrent" length="123456" />
    <torznab:attr name="size" value="123456" />
  </item>
  <item>
    <title>Only a details page</title>
    <link>https://animetosho.org/view/only-a-page.n1</link>
  </item>
</channel></rss>"""


def test_the_enclosure_is_the_download_and_link_only_a_details_page() -> None:
    first, second = parse_feed(parse_xml(ANIMETOSHO_ITEM))
    assert first.download_url == (
        "https://animetosho.org/storage/torrent/abcd/Some%20Audiobook.torrent"
    )
    assert first.link is not None and "/view/" in first.link
    assert second.download_url is None and second.magnet is None


@pytest.mark.parametrize("encoding", ["x-no-such-encoding", "utf-32", "UTF-16"])
def test_an_encoding_declaration_expat_cannot_read_is_a_typed_error(encoding: str) -> None:
    document = f'<?xml version="1.0" encoding="{encoding}"?><rss><channel/></rss>'.encode()
    with pytest.raises(MalformedFeedError, match="encoding"):
        parse_xml(document)


def test_a_flood_of_items_is_capped() -> None:
    item = b"<item><title>t</title></item>"
    document = b"<rss><channel>" + item * (MAX_FEED_ITEMS + 50) + b"</channel></rss>"
    assert len(parse_feed(parse_xml(document))) == MAX_FEED_ITEMS
