//! Telling Chinese writing from English text, for the tests that English replies hold none
//! (issue 13, part 7).

/// Whether `c` is Chinese writing: Unicode Script=Han (UAX #24, via `unicode-script`), or
/// CJK punctuation (the CJK Symbols and Punctuation block U+3000–U+303F, which holds `。`
/// `、` `「」`, and the full-width forms U+FF00–U+FF60, which hold `，：；！？（）`). The curly
/// quotes `“”` are left out: they are English typography too (U+201C/D, General
/// Punctuation), and the English texts use them as such.
pub fn is_chinese_writing(c: char) -> bool {
    use unicode_script::{Script, UnicodeScript};
    c.script() == Script::Han || matches!(c as u32, 0x3000..=0x303F | 0xFF00..=0xFF60)
}

/// Whether `text` holds Chinese writing once every `allowed` string is taken out.
pub fn holds_chinese_outside(text: &str, allowed: &[&str]) -> bool {
    let mut rest = text.to_owned();
    for name in allowed {
        rest = rest.replace(name, "");
    }
    rest.chars().any(is_chinese_writing)
}

/// Pieces of each locale's templates that mark a message as written from that locale: the
/// literal text between placeholders and line breaks (markup removed) that the other
/// locale does not hold too. English pieces need 4 letters; Chinese ones 2 Han characters.
struct Marks {
    english: Vec<String>,
    chinese: Vec<String>,
}

static MARKS: std::sync::LazyLock<Marks> = std::sync::LazyLock::new(|| {
    use pingan::domain::Language;
    let texts = pingan::i18n::Texts::load().expect("the locale files");
    let plain = |lang| texts.entries(lang).map(|(_, t)| pingan::html::to_plain(t)).collect::<Vec<_>>();
    let (zh, en) = (plain(Language::Zh), plain(Language::En));
    let pieces = |of: &[String], other: &[String], enough: &dyn Fn(&str) -> bool| {
        let other = other.join("\n");
        let mut pieces: Vec<String> = of
            .iter()
            .flat_map(|t| literal_pieces(t).into_iter().map(str::to_owned).collect::<Vec<_>>())
            .filter(|p| enough(p) && !other.contains(p.as_str()))
            .collect();
        pieces.sort_unstable();
        pieces.dedup();
        pieces
    };
    let english = pieces(&en, &zh, &|p| p.chars().filter(char::is_ascii_alphabetic).count() >= 4);
    let chinese = pieces(&zh, &en, &|p| {
        use unicode_script::{Script, UnicodeScript};
        p.chars().filter(|c| c.script() == Script::Han).count() >= 2
    });
    Marks { english, chinese }
});

/// The text of `template` between its `{placeholders}` and line breaks, trimmed.
fn literal_pieces(template: &str) -> Vec<&str> {
    // Placeholder names end up as pieces too: lowercase words that only ever mark English.
    template.split(['{', '}', '\n']).map(str::trim).filter(|piece| !piece.is_empty()).collect()
}

/// Whether the bot wrote `text` from its English templates: more of it matches English
/// template pieces than Chinese ones (a Han character counts as three letters, about what
/// it holds), so a Chinese reply quoting an English notice stays Chinese and an English
/// reply with a stray Chinese word stays English.
pub fn is_english_reply(text: &str) -> bool {
    let weight = |marks: &[String], per_char: usize| -> usize {
        marks.iter().filter(|m| text.contains(m.as_str())).map(|m| m.chars().count() * per_char).sum()
    };
    let english = weight(&MARKS.english, 1);
    english > 0 && english > weight(&MARKS.chinese, 3)
}

/// The runs of Chinese writing in `text` that none of `sources` holds: in an English
/// reply, Chinese may only be quoted from what people wrote (notices, tips, reasons, their
/// own messages) or be a name; anything else is the bot speaking Chinese to an English
/// reader.
pub fn unexplained_chinese(text: &str, sources: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if is_chinese_writing(c) {
            run.push(c);
        } else if !run.is_empty() {
            if !sources.contains(run.as_str()) {
                found.push(run.clone());
            }
            run.clear();
        }
    }
    found
}

/// What people wrote that the app's database holds and a reply may quote: notices, tips,
/// listed values and their written reasons, reports, figures' sources. Tables a test's
/// schema lacks are skipped.
pub async fn written_content(db: &super::test_db::TestDb) -> Vec<String> {
    use sqlx::Connection;
    const QUERIES: &[&str] = &[
        "SELECT title || ' ' || body || ' ' || COALESCE(area, '') || ' ' || COALESCE(source, '') FROM notices",
        "SELECT title || ' ' || body FROM tips",
        "SELECT value || ' ' || reason FROM indicators",
        "SELECT story || ' ' || COALESCE(forwarded, '') FROM reports",
        "SELECT shown FROM report_subjects",
        "SELECT source FROM fraud_figures",
        "SELECT detail FROM cap_detail",
    ];
    let mut out = Vec::new();
    let url = db.url();
    if url.starts_with("sqlite:") {
        let Ok(mut conn) = sqlx::SqliteConnection::connect(url).await else { return out };
        for query in QUERIES {
            out.extend(sqlx::query_scalar::<_, String>(query).fetch_all(&mut conn).await.unwrap_or_default());
        }
        let _ = conn.close().await;
    } else {
        let Ok(mut conn) = sqlx::PgConnection::connect(url).await else { return out };
        for query in QUERIES {
            let query = query.replace("SELECT detail", "SELECT detail::text");
            out.extend(
                sqlx::query_scalar::<_, String>(&query).fetch_all(&mut conn).await.unwrap_or_default(),
            );
        }
        let _ = conn.close().await;
    }
    out
}

/// Content files Pingan ships and quotes as they are: demo notices and figures, built-in
/// tips, the official list's names, phone area names.
fn shipped_content() -> &'static str {
    static FILES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        [
            "demo-notices.toml",
            "demo-figures.toml",
            "tips.zh-CN.toml",
            "tips.en.toml",
            "officials.toml",
            "cn_area_codes.tsv",
        ]
        .iter()
        .map(|name| std::fs::read_to_string(dir.join(name)).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\u{0}")
    });
    &FILES
}

/// Every English reply the bot sent through `fake` that holds Chinese writing nobody wrote:
/// one line per message (issue 13, part 7: "English replies contain no Chinese characters
/// apart from names, notice and tip content, and quoted user text"). `content` is what
/// [`written_content`] read; the strings users typed are the fake's own record.
pub fn english_replies_speaking_chinese(
    fake: &super::fake_telegram::FakeTelegram,
    content: &[String],
) -> Vec<String> {
    let (sent, typed) = fake.sent_and_typed();
    let mut sources = typed.join("\u{0}");
    for text in content {
        sources.push('\u{0}');
        sources.push_str(text);
    }
    sources.push('\u{0}');
    sources.push_str(shipped_content());
    // Names the English texts may show as they are (the locale scan allows the same):
    // the bot's own name beside "Pingan", and Chinese as the language switch names it.
    for name in ["平安", "中文"] {
        sources.push('\u{0}');
        sources.push_str(name);
    }
    let mut found = Vec::new();
    for message in sent {
        let labels = message.buttons().into_iter().flatten().map(|(label, _)| label);
        let shown: Vec<String> = std::iter::once(message.text.clone()).chain(labels).collect();
        if !is_english_reply(&shown.join("\n")) {
            continue;
        }

        for text in &shown {
            let unexplained = unexplained_chinese(text, &sources);
            if !unexplained.is_empty() {
                found.push(format!(
                    "chat {} message {}: {unexplained:?} in “{text}”",
                    message.chat_id, message.message_id
                ));
            }
        }
    }
    found
}
