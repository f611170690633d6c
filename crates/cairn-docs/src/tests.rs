use std::io;

use crate::blocks::{collapse_whitespace, join_lines_dehyphenated};
use crate::zip_guard::{Capped, Trip};
use crate::{DocsError, Format, Limits, detect::detect, parse};

#[test]
fn whitespace_collapses_and_invisibles_go() {
    let check = |input: &str, expected: &str| assert_eq!(collapse_whitespace(input), expected);
    check("  a \t b\n\nc  ", "a b c");
    check("no\u{00A0}break", "no break");
    check(
        "soft\u{00AD}hyphen zero\u{200B}width",
        "softhyphen zerowidth",
    );
    check("\u{FEFF}bom", "bom");
    check("bell\u{7}rings", "bell rings");
    check(" \n\t ", "");
}

#[test]
fn pdf_line_breaks_join_split_words_only() {
    let check = |lines: &[&str], expected: &str| {
        assert_eq!(join_lines_dehyphenated(lines.iter().copied()), expected)
    };
    check(&["the knowl-", "edge base"], "the knowledge base");
    // Not a split word: the hyphen stays, the break goes; a free-standing dash is spaced.
    check(&["Jean-", "Paul"], "Jean-Paul");
    check(&["pages 10-", "12"], "pages 10-12");
    check(&["a pause -", "then more"], "a pause - then more");
    check(&["one", "", "two "], "one two");
}

#[test]
fn detection_order() {
    let check = |bytes: &[u8], name: &str, mime: Option<&str>, expected: Format| {
        assert_eq!(
            detect(bytes, name, mime).unwrap(),
            expected,
            "{name} {mime:?}"
        );
    };
    check(b"%PDF-1.7 ...", "a.txt", None, Format::Pdf);
    check(b"junk\n%PDF-1.4", "a.pdf", None, Format::Pdf);
    // "%PDF-" quoted inside a text file is not a PDF.
    check(b"see the %PDF-1.4 header", "a.txt", None, Format::Text);
    check(b"# Title", "README.MD", None, Format::Markdown);
    check(
        b"# Title",
        "upload",
        Some("text/markdown"),
        Format::Markdown,
    );
    check(b"# Title", "notes.txt", Some("text/markdown"), Format::Text);
    check(
        b"<p>hi</p>",
        "x",
        Some("text/html; charset=utf-8"),
        Format::Html,
    );
    check(
        b"<!DOCTYPE html><p>hi",
        "x",
        Some("application/octet-stream"),
        Format::Html,
    );
    check(b"\xEF\xBB\xBF<html><p>hi", "x", None, Format::Html);
    check(b"plain words", "x", None, Format::Text);
    assert!(matches!(
        detect(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest", "old.doc", None),
        Err(DocsError::Unsupported { .. })
    ));
}

fn blocks(bytes: &[u8], name: &str) -> Vec<String> {
    parse(bytes, name, None, &Limits::default())
        .unwrap()
        .blocks
        .iter()
        .map(|b| format!("{:?}", b.kind))
        .collect()
}

#[test]
fn markdown_nested_lists_and_loose_items() {
    let md = "- one\n\n  still one\n- two\n  1. two.a\n\n     two.a more\n- three\n";
    assert_eq!(
        blocks(md.as_bytes(), "x.md"),
        [
            r#"ListItem { text: "one still one" }"#,
            r#"ListItem { text: "two" }"#,
            r#"ListItem { text: "two.a two.a more" }"#,
            r#"ListItem { text: "three" }"#,
        ]
    );
}

#[test]
fn html_tag_soup_and_legacy_charset() {
    // Unclosed <p> and <li>, a table without </td>, an unterminated <script>.
    let html = b"<p>one<p>two<ul><li>a<li>b</ul><table><tr><td>x<td>y</table><script>if (a<b) {";
    assert_eq!(
        blocks(html, "x.html"),
        [
            r#"Paragraph { text: "one" }"#,
            r#"Paragraph { text: "two" }"#,
            r#"ListItem { text: "a" }"#,
            r#"ListItem { text: "b" }"#,
            r#"Table { text: "x | y" }"#,
        ]
    );
    // <pre> keeps its lines.
    assert_eq!(
        blocks(
            b"<pre>\nfn main() {\n    run();<br>}</pre><p>after</p>",
            "x.html"
        ),
        [
            r#"Paragraph { text: "fn main() {\n    run();\n}" }"#,
            r#"Paragraph { text: "after" }"#,
        ]
    );
    let latin1 = b"<meta charset=\"iso-8859-1\"><p>caf\xE9 cr\xE8me</p>";
    assert_eq!(
        blocks(latin1, "x.html"),
        [r#"Paragraph { text: "café crème" }"#]
    );
}

#[test]
fn text_paragraphs_and_crlf() {
    assert_eq!(
        blocks(
            b"first line\r\nsame paragraph\r\n\r\n\r\nsecond\r\n",
            "x.txt"
        ),
        [
            r#"Paragraph { text: "first line same paragraph" }"#,
            r#"Paragraph { text: "second" }"#,
        ]
    );
}

#[test]
fn a_panicking_parser_is_a_corrupt_file() {
    let result: Result<(), DocsError> =
        crate::guarded(Format::Pdf, || panic!("index out of bounds"));
    match result {
        Err(DocsError::Corrupt { format, reason }) => {
            assert_eq!(format, Format::Pdf);
            assert!(reason.contains("index out of bounds"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

/// The hard cap on inflated bytes, on its own: the zip crate also stops at an entry's
/// declared size, which hides this layer in the DOCX tests, but the cap must hold alone.
#[test]
fn capped_reader_stops_at_each_cap() {
    let drain = |mut r: Capped<io::Repeat>| {
        assert!(io::copy(&mut r, &mut io::sink()).is_err());
        // Once tripped, it stays tripped.
        assert!(io::Read::read(&mut r, &mut [0; 16]).is_err());
        r.tripped()
    };
    // Endless markup ("<<<<…"): the byte budget or the ratio cap stops it.
    assert_eq!(
        drain(Capped::new(io::repeat(b'<'), 1 << 20, u64::MAX)),
        Some(Trip::Budget)
    );
    assert_eq!(
        drain(Capped::new(io::repeat(b'<'), u64::MAX, 1 << 20)),
        Some(Trip::Ratio)
    );
    // Endless zeros: no markup at all, stopped after MAX_XML_RUN bytes.
    assert_eq!(
        drain(Capped::new(io::repeat(0), u64::MAX, u64::MAX)),
        Some(Trip::Run)
    );
    // Within every cap, it is a plain reader.
    let mut ok = Capped::new(io::Read::take(io::repeat(b'<'), 1000), 4096, 4096);
    assert_eq!(io::copy(&mut ok, &mut io::sink()).unwrap(), 1000);
    assert_eq!(ok.tripped(), None);
}

#[test]
fn page_numbers_are_recognised() {
    for folio in [
        "1",
        "12",
        "iv",
        "xii",
        "Page 3",
        "page 3 of 10",
        "3 of 10",
        "- 7 -",
        "– 8 –",
    ] {
        assert!(crate::pdf::is_page_number(folio), "{folio}");
    }
    for text in [
        "",
        "2026 report",
        "Chapter 1",
        "civil",
        "a",
        "1.2",
        "3 of many",
    ] {
        assert!(!crate::pdf::is_page_number(text), "{text}");
    }
}
