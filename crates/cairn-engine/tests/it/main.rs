//! The engine with the real models, fetched by `cairn models pull` (scripts/test does it)
//! into the model cache.

mod chat;
mod embed;
mod grammar;
mod schema_check;
mod support;
