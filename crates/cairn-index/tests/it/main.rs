//! cairn-index integration tests: one binary, one module per area.

mod chunk_to_search;
mod durability;
mod filters_and_deletes;
mod support;
