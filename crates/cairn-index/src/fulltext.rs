//! The full-text side: a tantivy index of chunks with BM25 over an English stemming analyser.
//!
//! Each chunk is one tantivy document. `search_text` (indexed, not stored) is the heading path
//! followed by the chunk text, so a chunk matches on its section's title too (as BEIR's BM25
//! baselines index title + body). Identity, location and filter fields are stored strings.
//! The commit payload carries the generation shared with the vector side.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery, TermSetQuery};
use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::error::IndexError;
use crate::index::{DocumentInput, SearchFilter, chunk_id};

const ANALYZER: &str = "cairn_en_stem";
const HEADING_SEPARATOR: char = '\u{1f}';
const WRITER_MEMORY_BYTES: usize = 64 << 20;

#[derive(Clone, Copy)]
struct Fields {
    chunk_id: Field,
    doc_id: Field,
    collection: Field,
    meta: Field,
    search_text: Field,
    text: Field,
    heading: Field,
    page: Field,
    ordinal: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(ANALYZER)
        .set_index_option(IndexRecordOption::WithFreqs);
    let fields = Fields {
        chunk_id: b.add_text_field("chunk_id", STRING | STORED),
        doc_id: b.add_text_field("doc_id", STRING | STORED),
        collection: b.add_text_field("collection", STRING | STORED),
        meta: b.add_text_field("meta", STRING | STORED),
        search_text: b.add_text_field(
            "search_text",
            TextOptions::default().set_indexing_options(indexing),
        ),
        text: b.add_text_field("text", STORED),
        heading: b.add_text_field("heading", STORED),
        page: b.add_u64_field("page", STORED),
        ordinal: b.add_u64_field("ordinal", STORED),
    };
    (b.build(), fields)
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(StopWordFilter::new(Language::English).expect("English stop words are built in"))
        .filter(Stemmer::new(Language::English))
        .build()
}

/// A chunk as stored in the full-text index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredChunk {
    pub chunk_id: String,
    pub doc_id: String,
    pub collection: String,
    pub text: String,
    pub heading_path: Vec<String>,
    pub page: Option<u32>,
    pub ordinal: u32,
}

pub(crate) struct FullText {
    index: Index,
    fields: Fields,
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
}

impl FullText {
    /// Opens or creates the index in `dir`; returns it with its committed generation.
    pub fn open(dir: &Path) -> Result<(Self, u64), IndexError> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = schema();
        let index = if dir.join("meta.json").exists() {
            Index::open_in_dir(dir)?
        } else {
            Index::create_in_dir(dir, schema)?
        };
        index.tokenizers().register(ANALYZER, analyzer());
        let generation = match index.load_metas()?.payload {
            Some(p) => p.parse().map_err(|_| IndexError::Corrupt {
                path: dir.to_path_buf(),
                reason: format!("commit payload {p:?}"),
            })?,
            None => 0,
        };
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY_BYTES)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok((
            Self {
                index,
                fields,
                writer: Mutex::new(writer),
                reader,
            },
            generation,
        ))
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stages `doc`, replacing an earlier version of it.
    pub fn add(&self, doc: &DocumentInput) -> Result<(), IndexError> {
        let f = self.fields;
        let writer = self.writer();
        writer.delete_term(Term::from_field_text(f.doc_id, &doc.doc_id));
        for c in &doc.chunks {
            let chunk = &c.chunk;
            let mut d = TantivyDocument::default();
            d.add_text(f.chunk_id, chunk_id(&doc.doc_id, chunk.ordinal));
            d.add_text(f.doc_id, &doc.doc_id);
            d.add_text(f.collection, &doc.collection_id);
            for (k, v) in &doc.metadata {
                d.add_text(f.meta, format!("{k}={v}"));
            }
            let mut search_text = chunk.heading_path.join("\n");
            search_text.push('\n');
            search_text.push_str(&chunk.text);
            d.add_text(f.search_text, search_text);
            d.add_text(f.text, &chunk.text);
            d.add_text(
                f.heading,
                chunk.heading_path.join(&HEADING_SEPARATOR.to_string()),
            );
            if let Some(page) = chunk.page {
                d.add_u64(f.page, u64::from(page));
            }
            d.add_u64(f.ordinal, u64::from(chunk.ordinal));
            writer.add_document(d)?;
        }
        Ok(())
    }

    pub fn delete(&self, doc_id: &str) {
        self.writer()
            .delete_term(Term::from_field_text(self.fields.doc_id, doc_id));
    }

    /// Commits staged work with `generation` as payload, then makes it visible.
    pub fn commit(&self, generation: u64) -> Result<(), IndexError> {
        let mut writer = self.writer();
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&generation.to_string());
        prepared.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    pub fn rollback(&self) -> Result<(), IndexError> {
        self.writer().rollback()?;
        Ok(())
    }

    /// The top `limit` chunks by BM25 for `text` among those `filter` admits.
    pub fn search(
        &self,
        text: &str,
        filter: &SearchFilter,
        limit: usize,
    ) -> Result<Vec<(DocAddress, f32)>, IndexError> {
        let mut analyzer = self.index.tokenizer_for_field(self.fields.search_text)?;
        let mut stream = analyzer.token_stream(text);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        while stream.advance() {
            let term = Term::from_field_text(self.fields.search_text, &stream.token().text);
            clauses.push((
                Occur::Should,
                Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
            ));
        }
        if clauses.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut query: Box<dyn Query> = Box::new(BooleanQuery::new(clauses));
        if !filter.is_empty() {
            let mut must: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, query)];
            if !filter.collections.is_empty() {
                let terms = filter
                    .collections
                    .iter()
                    .map(|c| Term::from_field_text(self.fields.collection, c));
                must.push((
                    Occur::Must,
                    Box::new(ConstScoreQuery::new(
                        Box::new(TermSetQuery::new(terms)),
                        0.0,
                    )),
                ));
            }
            for (k, v) in &filter.metadata {
                let term = Term::from_field_text(self.fields.meta, &format!("{k}={v}"));
                must.push((
                    Occur::Must,
                    Box::new(ConstScoreQuery::new(
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                        0.0,
                    )),
                ));
            }
            query = Box::new(BooleanQuery::new(must));
        }
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        Ok(top.into_iter().map(|(score, addr)| (addr, score)).collect())
    }

    pub fn stored(&self, addr: DocAddress) -> Result<StoredChunk, IndexError> {
        let doc: TantivyDocument = self.reader.searcher().doc(addr)?;
        let f = self.fields;
        let text = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let heading = text(f.heading);
        Ok(StoredChunk {
            chunk_id: text(f.chunk_id),
            doc_id: text(f.doc_id),
            collection: text(f.collection),
            text: text(f.text),
            heading_path: if heading.is_empty() {
                Vec::new()
            } else {
                heading
                    .split(HEADING_SEPARATOR)
                    .map(str::to_string)
                    .collect()
            },
            page: doc
                .get_first(f.page)
                .and_then(|v| v.as_u64())
                .map(|p| p as u32),
            ordinal: doc
                .get_first(f.ordinal)
                .and_then(|v| v.as_u64())
                .unwrap_or_default() as u32,
        })
    }

    /// The stored chunk with this id, if committed.
    pub fn lookup(&self, chunk_id: &str) -> Result<Option<StoredChunk>, IndexError> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.chunk_id, chunk_id),
            IndexRecordOption::Basic,
        );
        let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        top.first().map(|(_, addr)| self.stored(*addr)).transpose()
    }

    /// Ids of committed documents with at least one live chunk.
    pub fn document_ids(&self) -> Result<BTreeSet<String>, IndexError> {
        let searcher = self.reader.searcher();
        let mut candidates = BTreeSet::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.fields.doc_id)?;
            let mut terms = inverted.terms().stream()?;
            while terms.advance() {
                candidates.insert(String::from_utf8_lossy(terms.key()).into_owned());
            }
        }
        // Term dictionaries keep deleted documents' terms until a merge: count live hits.
        let mut ids = BTreeSet::new();
        for id in candidates {
            let query = TermQuery::new(
                Term::from_field_text(self.fields.doc_id, &id),
                IndexRecordOption::Basic,
            );
            if searcher.search(&query, &Count)? > 0 {
                ids.insert(id);
            }
        }
        Ok(ids)
    }

    pub fn chunk_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}
