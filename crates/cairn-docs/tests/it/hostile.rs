//! Hostile and broken uploads: each must fail with a clear error, never a panic, and never
//! cost more than the limits allow.

use std::io::{Cursor, Write};
use std::time::Duration;

use cairn_docs::{DocsError, Format, Limits};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::{alloc, fixture, heavy, parse};

/// A ZIP with the parts that make it look like a DOCX, and `word/document.xml` of
/// `zeros` zero bytes, deflated.
fn docx_bomb(zeros: u64) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    zip.start_file("[Content_Types].xml", deflated).unwrap();
    zip.write_all(br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#)
        .unwrap();
    zip.start_file("word/document.xml", deflated).unwrap();
    let chunk = vec![0u8; 1 << 20];
    let mut left = zeros;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        zip.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    zip.finish().unwrap().into_inner()
}

fn expect_too_large(result: Result<cairn_docs::ParsedDocument, DocsError>, what: &str) {
    match result {
        Err(DocsError::TooLarge { what: w, .. }) if w.contains(what) => {}
        other => panic!("expected TooLarge({what}), got {other:?}"),
    }
}

/// Sets the declared uncompressed size of `word/document.xml` to 1,000 bytes, in the local
/// header and in the central directory.
fn forge_sizes(zip: &mut [u8]) {
    let name = b"word/document.xml";
    let mut patched = 0;
    for at in 0..zip.len() - 46 {
        let (size_at, name_at) = match &zip[at..at + 4] {
            b"PK\x03\x04" => (at + 22, at + 30),
            b"PK\x01\x02" => (at + 24, at + 46),
            _ => continue,
        };
        if zip.get(name_at..name_at + name.len()) == Some(name) {
            zip[size_at..size_at + 4].copy_from_slice(&1000u32.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2);
}

#[test]
fn one_gigabyte_zip_bomb_docx_is_refused() {
    let _heavy = heavy();
    // 1 GiB of zeros deflates to about 1 MiB.
    let mut bomb = docx_bomb(1 << 30);
    assert!(bomb.len() < 4 << 20, "bomb is {} bytes", bomb.len());
    // As declared, it is over the byte budget at once.
    expect_too_large(parse(&bomb, "report.docx"), "decompressed ZIP bytes");

    // With its sizes forged small, only the bytes actually inflated can give it away: the
    // zip crate stops at the declared size, and memory stays small.
    forge_sizes(&mut bomb);
    let base = alloc::reset_peak();
    match parse(&bomb, "report.docx") {
        Err(DocsError::Corrupt {
            format: Format::Docx,
            reason,
        }) => {
            assert!(reason.contains("declared"), "{reason}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let used = alloc::peak() - base;
    assert!(used < 64 << 20, "parsing the bomb peaked at {used} bytes");
}

#[test]
fn zip_bomb_docx_is_refused_by_byte_budget() {
    let bomb = docx_bomb(64 << 20);
    let limits = Limits {
        max_zip_uncompressed_bytes: 8 << 20,
        max_compression_ratio: 1_000_000,
        ..Limits::default()
    };
    expect_too_large(
        cairn_docs::parse(&bomb, "report.docx", None, &limits),
        "decompressed ZIP bytes",
    );
}

#[test]
fn zip_bomb_of_markup_is_refused_by_compression_ratio() {
    // Not one long text run but markup repeated, honestly declared: refused by its ratio.
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    zip.start_file("word/document.xml", deflated).unwrap();
    zip.write_all(b"<w:document><w:body>").unwrap();
    let chunk = b"<w:p/>".repeat(1 << 16);
    for _ in 0..256 {
        zip.write_all(&chunk).unwrap();
    }
    zip.write_all(b"</w:body></w:document>").unwrap();
    let bomb = zip.finish().unwrap().into_inner();
    expect_too_large(parse(&bomb, "report.docx"), "compression ratio");
}

#[test]
fn zip_with_too_many_entries() {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("word/document.xml", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"<w:document/>").unwrap();
    for i in 0..50 {
        zip.start_file(format!("word/media/{i}.bin"), SimpleFileOptions::default())
            .unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    let limits = Limits {
        max_zip_entries: 10,
        ..Limits::default()
    };
    expect_too_large(
        cairn_docs::parse(&bytes, "many.docx", None, &limits),
        "ZIP entries",
    );
}

#[test]
fn truncated_pdf_is_corrupt() {
    let pdf = fixture("sample.pdf");
    for cut in [pdf.len() / 3, pdf.len() / 2, pdf.len() - 8] {
        match parse(&pdf[..cut], "guide.pdf") {
            Err(DocsError::Corrupt {
                format: Format::Pdf,
                reason,
            }) => assert!(reason.contains("truncated"), "{reason}"),
            other => panic!("cut at {cut}: expected Corrupt, got {other:?}"),
        }
    }
}

#[test]
fn damaged_pdfs_never_panic() {
    // Cut anywhere and given back an end marker, so the parser itself meets the damage: the
    // answer may be an error or the text that survived, but it is always an answer.
    let pdf = fixture("sample.pdf");
    for cut in (16..pdf.len()).step_by(53) {
        let mut damaged = pdf[..cut].to_vec();
        damaged.extend_from_slice(b"\n%%EOF\n");
        let _ = parse(&damaged, "guide.pdf");
        // Bytes flipped in the middle of the file.
        let mut flipped = pdf.clone();
        flipped[cut] ^= 0xA5;
        let _ = parse(&flipped, "guide.pdf");
    }
}

#[test]
fn binary_junk_named_txt_is_not_text() {
    // Pseudo-random bytes (a fixed LCG, so the test is the same every run).
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let junk: Vec<u8> = (0..4096)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            (state >> 56) as u8
        })
        .collect();
    let err = parse(&junk, "notes.txt").unwrap_err();
    assert!(matches!(err, DocsError::NotText { .. }), "{err:?}");
    assert!(err.to_string().starts_with("not text: "), "{err}");

    // No NUL byte, valid ASCII, but mostly control characters.
    let controls: Vec<u8> = (0..4096u32).map(|i| (i % 31 + 1) as u8).collect();
    let err = parse(&controls, "notes.txt").unwrap_err();
    assert!(matches!(err, DocsError::NotText { .. }), "{err:?}");

    // Latin-1, not UTF-8.
    let err = parse(b"caf\xE9 cr\xE8me", "menu.txt").unwrap_err();
    assert!(err.to_string().contains("invalid UTF-8"), "{err}");
}

#[test]
fn empty_and_blank_files() {
    assert!(matches!(parse(b"", "empty.txt"), Err(DocsError::Empty)));
    assert!(matches!(parse(b"", "empty.pdf"), Err(DocsError::Empty)));
    assert!(matches!(
        parse(b" \n\t\n ", "blank.md"),
        Err(DocsError::NoText {
            format: Format::Markdown
        })
    ));
}

#[test]
fn unsupported_and_misnamed_files() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    assert!(matches!(
        parse(png, "photo.png"),
        Err(DocsError::Unsupported { .. })
    ));

    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("xl/workbook.xml", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"<workbook/>").unwrap();
    let xlsx = zip.finish().unwrap().into_inner();
    match parse(&xlsx, "sheet.xlsx") {
        Err(DocsError::Unsupported { what }) => assert!(what.contains("XLSX"), "{what}"),
        other => panic!("{other:?}"),
    }

    // Named PDF / DOCX, but not one.
    assert!(matches!(
        parse(b"hello", "report.pdf"),
        Err(DocsError::Corrupt {
            format: Format::Pdf,
            ..
        })
    ));
    assert!(matches!(
        parse(b"hello", "report.docx"),
        Err(DocsError::Corrupt {
            format: Format::Docx,
            ..
        })
    ));
}

#[test]
fn limits_are_enforced() {
    let small_file = Limits {
        max_file_bytes: 100,
        ..Limits::default()
    };
    expect_too_large(
        cairn_docs::parse(&fixture("sample.pdf"), "guide.pdf", None, &small_file),
        "file size",
    );

    let one_page = Limits {
        max_pdf_pages: 1,
        ..Limits::default()
    };
    expect_too_large(
        cairn_docs::parse(&fixture("sample.pdf"), "guide.pdf", None, &one_page),
        "PDF pages",
    );

    let few_chars = Limits {
        max_text_chars: 40,
        ..Limits::default()
    };
    for name in ["sample.md", "sample.html", "sample.docx", "sample.pdf"] {
        expect_too_large(
            cairn_docs::parse(&fixture(name), name, None, &few_chars),
            "characters",
        );
    }

    let no_time = Limits {
        max_parse_time: Duration::ZERO,
        ..Limits::default()
    };
    assert!(matches!(
        cairn_docs::parse(&fixture("sample.pdf"), "guide.pdf", None, &no_time),
        Err(DocsError::Timeout {
            format: Format::Pdf,
            ..
        })
    ));
}
