//! `POST /v1/embeddings`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ApiError;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EmbeddingRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub input: EmbeddingInput,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Text, or token ids, one or many.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum EmbeddingInput {
    One(String),
    Many(Vec<String>),
    Tokens(Vec<u32>),
    ManyTokens(Vec<Vec<u32>>),
}

const MAX_INPUTS: usize = 2048;

impl EmbeddingRequest {
    pub fn validate(&self) -> Result<(), ApiError> {
        let count = match &self.input {
            EmbeddingInput::One(s) => usize::from(!s.is_empty()),
            EmbeddingInput::Many(v) => {
                if v.iter().any(String::is_empty) {
                    return Err(ApiError::invalid(
                        "'input' must not contain empty strings",
                        Some("input"),
                    ));
                }
                v.len()
            }
            EmbeddingInput::Tokens(t) => usize::from(!t.is_empty()),
            EmbeddingInput::ManyTokens(v) => v.len(),
        };
        if count == 0 {
            return Err(ApiError::invalid(
                "'input' must not be empty",
                Some("input"),
            ));
        }
        if count > MAX_INPUTS {
            return Err(ApiError::invalid(
                format!("'input' has {count} items; the limit is {MAX_INPUTS}"),
                Some("input"),
            ));
        }
        if let Some(format) = &self.encoding_format
            && format != "float"
            && format != "base64"
        {
            return Err(ApiError::invalid(
                "'encoding_format' must be \"float\" or \"base64\"",
                Some("encoding_format"),
            ));
        }
        Ok(())
    }

    /// Texts to embed; token-id inputs are only meaningful to the upstream that made them.
    pub fn texts(&self) -> Option<Vec<String>> {
        match &self.input {
            EmbeddingInput::One(s) => Some(vec![s.clone()]),
            EmbeddingInput::Many(v) => Some(v.clone()),
            EmbeddingInput::Tokens(_) | EmbeddingInput::ManyTokens(_) => None,
        }
    }

    pub fn input_chars(&self) -> usize {
        match &self.input {
            EmbeddingInput::One(s) => s.len(),
            EmbeddingInput::Many(v) => v.iter().map(String::len).sum(),
            EmbeddingInput::Tokens(t) => t.len() * 4,
            EmbeddingInput::ManyTokens(v) => v.iter().map(Vec::len).sum::<usize>() * 4,
        }
    }
}
