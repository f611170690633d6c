use std::path::PathBuf;

use thiserror::Error;

/// Everything the engine can refuse or fail at. The first group is the caller's to fix
/// (the server answers 4xx); the rest are the engine's own trouble.
#[derive(Debug, Clone, Error)]
pub enum EngineError {
    #[error(
        "the prompt has {prompt_tokens} tokens but the context window holds {context_tokens}, \
         and at least one token must be left for the answer"
    )]
    ContextOverflow {
        prompt_tokens: usize,
        context_tokens: usize,
    },
    #[error("the engine's queue is full ({capacity} requests already waiting); retry shortly")]
    QueueFull { capacity: usize },
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("the model's chat template failed: {0}")]
    Template(String),
    /// A grammar (or the JSON Schema it was made from) that cannot constrain the output.
    #[error("invalid grammar: {0}")]
    Grammar(String),

    #[error("cannot load {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("the engine has stopped")]
    Stopped,
    #[error("inference failed: {0}")]
    Inference(String),
}

impl EngineError {
    /// True when the request itself is at fault, not the engine.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            EngineError::ContextOverflow { .. }
                | EngineError::QueueFull { .. }
                | EngineError::InvalidRequest(_)
                | EngineError::Template(_)
                | EngineError::Grammar(_)
        )
    }
}
