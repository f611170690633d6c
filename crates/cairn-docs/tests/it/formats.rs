//! Each format on a real file: block kinds, reading order, text hygiene, titles, pages.

use cairn_docs::Format;

use crate::{check, fixture, parse};

#[test]
fn pdf_pages_headings_and_split_words() {
    let doc = parse(&fixture("sample.pdf"), "guide.pdf").unwrap();
    assert_eq!(doc.format, Format::Pdf);
    assert_eq!(doc.pages, Some(2));
    assert_eq!(doc.title.as_deref(), Some("Cairn Field Guide"));
    // "knowl-" / "edge" at a line break is one word again.
    check(
        &doc,
        "
        h1 Cairn Field Guide @1
        p Cairn keeps every uploaded document in its knowledge index, split into chunks that remember their page. This first page talks about setting up a camp near the river. @1
        --- @2
        h2 Chapter Two: Trails @2
        p The second page describes the northern trail and its markers. Stone cairns show the way when the fog comes down. @2
        ",
    );
}

#[test]
fn docx_headings_lists_tables() {
    let doc = parse(&fixture("sample.docx"), "report.docx").unwrap();
    assert_eq!(doc.format, Format::Docx);
    assert_eq!(doc.title.as_deref(), Some("Quarterly Report"));
    assert_eq!(doc.pages, None);
    check(
        &doc,
        "
        h1 Quarterly Report
        p This report summarises the quarter for the trail team.
        h1 Highlights
        li New markers were placed on three trails.
        li The hut roof was repaired.
        li Volunteers logged 420 hours.
        h2 Numbers
        table Trail | Markers / North | 12 / South | 7
        p Total spend was within budget.
        ",
    );
}

#[test]
fn html_skips_scripts_styles_and_navigation() {
    let doc = parse(&fixture("sample.html"), "trails.html").unwrap();
    assert_eq!(doc.format, Format::Html);
    assert_eq!(doc.title.as_deref(), Some("Trail Conditions & Notes"));
    check(
        &doc,
        "
        h1 Trail Conditions
        p The northern trail is open. Snow remains above 2,000 m, so bring spikes.
        h2 Closures
        li South ridge: rockfall
        li Lake loop: bridge repair
        table Trail | Status / North | Open / South | Closed
        p Last updated by the hut warden. Call ahead in bad weather.
        ",
    );
}

#[test]
fn markdown_blocks_in_order() {
    let doc = parse(&fixture("sample.md"), "handbook.md").unwrap();
    assert_eq!(doc.format, Format::Markdown);
    assert_eq!(doc.title.as_deref(), Some("Camp Handbook"));
    check(
        &doc,
        "
        h1 Camp Handbook
        p Welcome to the camp. This paragraph spans two lines in the source.
        h2 Packing list
        li Tent
        li Stove
        li Fuel canister
        li Water filter
        table Item | Weight / Tent | 1.2 kg / Stove | 0.3 kg
        p cairn serve --data ./camp / # then open the browser
        p Closing words with inline code.
        ",
    );
}

#[test]
fn format_comes_from_magic_bytes_before_the_name() {
    // A PDF uploaded as "notes.txt", a DOCX as "blob.bin", HTML without an extension.
    let pdf = parse(&fixture("sample.pdf"), "notes.txt").unwrap();
    assert_eq!(pdf.format, Format::Pdf);
    let docx = parse(&fixture("sample.docx"), "blob.bin").unwrap();
    assert_eq!(docx.format, Format::Docx);
    let html = parse(&fixture("sample.html"), "index").unwrap();
    assert_eq!(html.format, Format::Html);
    // The declared MIME type decides when the name says nothing.
    let md = cairn_docs::parse(
        &fixture("sample.md"),
        "upload",
        Some("text/markdown; charset=utf-8"),
        &cairn_docs::Limits::default(),
    )
    .unwrap();
    assert_eq!(md.format, Format::Markdown);
}

#[test]
fn utf16_text_with_bom() {
    let text = "Erste Zeile\nzweite Zeile\n\nÄußerst wichtig: 温泉";
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let doc = parse(&bytes, "notes.txt").unwrap();
    check(
        &doc,
        "
        p Erste Zeile zweite Zeile
        p Äußerst wichtig: 温泉
        ",
    );
}
