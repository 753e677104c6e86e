//! What a feed's URL answers with: one CAP document, or an Atom or RSS index (read by the
//! `feed-rs` crate) whose entries each name a CAP file or carry one.
//!
//! An entry's CAP file is, in this order: a link typed `application/cap+xml` (as
//! MeteoAlarm and the WMO alert hubs write them); a link or enclosure whose path ends in
//! `.cap` or `.xml`; CAP carried in the entry's content; the entry's first link; its id,
//! when that is an http(s) URL (as the US National Weather Service's Atom feed does).

use quick_xml::events::Event;
use url::Url;

/// The namespace prefix every CAP version shares (1.0, 1.1, 1.2).
const CAP_NAMESPACE_PREFIX: &str = "urn:oasis:names:tc:emergency:cap";

/// What a feed answered with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Index {
    /// A CAP document (XML or JSON), to import as it is.
    Cap,
    /// An index's entries, oldest first.
    Entries(Vec<Entry>),
}

/// One entry of an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The entry's id and its updated time (RFC 3339, or empty): an entry edited in place
    /// is new again.
    pub key: String,
    pub cap: EntryCap,
}

/// Where an entry's CAP document is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryCap {
    Link(Url),
    /// CAP carried in the entry itself.
    Inline(String),
    /// The entry names no CAP file; the text says what it had.
    Missing(String),
}

/// Reads a feed's answer; `base` resolves relative links. `Err` says why it is neither
/// CAP nor a feed.
pub fn read(bytes: &[u8], base: &Url) -> Result<Index, String> {
    if is_cap(bytes) {
        return Ok(Index::Cap);
    }
    let feed = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .build()
        .parse(bytes)
        .map_err(|e| format!("is neither CAP nor an Atom or RSS feed ({e})"))?;
    let mut entries: Vec<(Option<chrono::DateTime<chrono::Utc>>, usize, Entry)> = feed
        .entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let when = entry.updated.or(entry.published);
            let key = format!("{} {}", entry.id, when.map(|w| w.to_rfc3339()).unwrap_or_default());
            (when, i, Entry { key, cap: entry_cap(&entry, base) })
        })
        .collect();
    // Oldest first, so an Update is imported after the Alert it refers to; entries
    // without dates keep the feed's order, read from its end (feeds list newest first).
    entries.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    Ok(Index::Entries(entries.into_iter().map(|(_, _, entry)| entry).collect()))
}

/// Whether `bytes` are a CAP document: XML whose root element is `<alert>` (in any
/// namespace prefix), or JSON that is not a JSON Feed.
pub fn is_cap(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with(['{', '[']) {
        return !text.contains("jsonfeed.org");
    }
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) => return e.local_name().into_inner() == "alert",
            Ok(Event::Eof) | Err(_) => return false,
            Ok(_) => buf.clear(),
        }
    }
}

fn entry_cap(entry: &feed_rs::model::Entry, base: &Url) -> EntryCap {
    let url = |href: &str| base.join(href.trim()).ok().filter(|u| matches!(u.scheme(), "http" | "https"));
    let typed_cap = |t: Option<&str>| t.is_some_and(|t| t.to_ascii_lowercase().contains("cap"));
    let named_cap = |u: &Url| {
        let path = u.path().to_ascii_lowercase();
        path.ends_with(".cap") || path.ends_with(".xml")
    };
    let media = entry.media.iter().flat_map(|m| &m.content).filter_map(|c| {
        let href = url(c.url.as_ref()?.as_str())?;
        Some((href, c.content_type.as_ref().map(|t| t.to_string())))
    });
    let links: Vec<(Url, Option<String>)> =
        entry.links.iter().filter_map(|l| Some((url(&l.href)?, l.media_type.clone()))).chain(media).collect();
    if let Some((href, _)) = links.iter().find(|(_, t)| typed_cap(t.as_deref())) {
        return EntryCap::Link(href.clone());
    }
    if let Some((href, _)) = links.iter().find(|(href, _)| named_cap(href)) {
        return EntryCap::Link(href.clone());
    }
    if let Some(body) = entry.content.as_ref().and_then(|c| c.body.as_deref())
        && body.contains(CAP_NAMESPACE_PREFIX)
    {
        return EntryCap::Inline(body.to_owned());
    }
    if let Some((href, _)) = links.first() {
        return EntryCap::Link(href.clone());
    }
    if let Some(id) = url(&entry.id).filter(|_| entry.id.starts_with("http")) {
        return EntryCap::Link(id);
    }
    EntryCap::Missing(format!("entry {} has no link and no CAP content", entry.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://alerts.example.org/feeds/atom.xml").unwrap()
    }

    #[test]
    fn a_cap_document_is_told_from_a_feed() {
        let cap = br#"<?xml version="1.0"?><!-- x --><cap:alert xmlns:cap="urn:oasis:names:tc:emergency:cap:1.1"/>"#;
        assert!(is_cap(cap));
        assert!(is_cap(b"\xef\xbb\xbf<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"></alert>"));
        assert!(is_cap(br#"[{"identifier": "x"}]"#));
        assert!(!is_cap(br#"{"version": "https://jsonfeed.org/version/1.1", "items": []}"#));
        assert!(!is_cap(br#"<feed xmlns="http://www.w3.org/2005/Atom"></feed>"#));
        assert!(!is_cap(b"<rss version=\"2.0\"><channel/></rss>"));
        assert!(!is_cap(b"not xml at all"));
    }

    #[test]
    fn entries_come_oldest_first_with_their_cap_file() {
        let atom = r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:feed</id><title>Alerts</title><updated>2026-12-01T10:00:00Z</updated>
  <entry><id>urn:b</id><title>B</title><updated>2026-12-01T10:00:00Z</updated>
    <link rel="alternate" type="text/html" href="/html/b"/>
    <link rel="related" type="application/cap+xml" href="/cap/b"/></entry>
  <entry><id>urn:a</id><title>A</title><updated>2026-12-01T09:00:00Z</updated>
    <link href="https://elsewhere.example.org/a.xml"/></entry>
  <entry><id>https://alerts.example.org/id/c</id><title>C</title><updated>2026-12-01T11:00:00Z</updated></entry>
  <entry><id>urn:d</id><title>D</title><updated>2026-12-01T08:00:00Z</updated></entry>
</feed>"#;
        let Index::Entries(entries) = read(atom.as_bytes(), &base()).unwrap() else { panic!("not a feed") };
        let caps: Vec<_> = entries.iter().map(|e| e.cap.clone()).collect();
        assert_eq!(
            caps,
            vec![
                EntryCap::Missing("entry urn:d has no link and no CAP content".into()),
                EntryCap::Link(Url::parse("https://elsewhere.example.org/a.xml").unwrap()),
                EntryCap::Link(Url::parse("https://alerts.example.org/cap/b").unwrap()),
                EntryCap::Link(Url::parse("https://alerts.example.org/id/c").unwrap()),
            ]
        );
        assert_eq!(entries[1].key, "urn:a 2026-12-01T09:00:00+00:00");
    }

    #[test]
    fn rss_items_and_their_enclosures_are_read() {
        let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x.example/</link><description>d</description>
<item><title>one</title><guid>g1</guid><pubDate>Tue, 01 Dec 2026 09:00:00 GMT</pubDate><enclosure url="https://x.example/one.cap" type="application/octet-stream" length="10"/></item>
<item><title>two</title><guid>g2</guid><pubDate>Tue, 01 Dec 2026 08:00:00 GMT</pubDate><link>https://x.example/two</link></item>
</channel></rss>"#;
        let Index::Entries(entries) = read(rss.as_bytes(), &base()).unwrap() else { panic!("not a feed") };
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].cap, EntryCap::Link(Url::parse("https://x.example/two").unwrap()));
        assert_eq!(entries[1].cap, EntryCap::Link(Url::parse("https://x.example/one.cap").unwrap()));
    }

    #[test]
    fn what_is_neither_says_so() {
        let err = read(b"<html><body>Service Unavailable</body></html>", &base()).unwrap_err();
        assert!(err.starts_with("is neither CAP nor an Atom or RSS feed"), "{err}");
    }
}
