//! Stop strings, matched across token boundaries.
//!
//! A stop string can arrive split over several tokens ("\n\nUs" + "er:"). Text that could be
//! the beginning of a stop string is therefore held back until the next token shows whether
//! it is; the stop string itself is never sent.

#[derive(Debug, Default)]
pub(crate) struct StopMatcher {
    stops: Vec<String>,
    pending: String,
}

impl StopMatcher {
    pub fn new(stops: Vec<String>) -> StopMatcher {
        StopMatcher {
            stops: stops.into_iter().filter(|s| !s.is_empty()).collect(),
            pending: String::new(),
        }
    }

    /// Adds generated text; returns the text safe to send, and whether a stop string ended
    /// the generation (the returned text then ends just before it).
    pub fn push(&mut self, text: &str) -> (String, bool) {
        if self.stops.is_empty() {
            return (text.to_string(), false);
        }
        self.pending.push_str(text);
        let earliest = self
            .stops
            .iter()
            .filter_map(|s| self.pending.find(s.as_str()))
            .min();
        if let Some(at) = earliest {
            let out = self.pending[..at].to_string();
            self.pending.clear();
            return (out, true);
        }
        let hold = self.longest_stop_prefix_suffix();
        let cut = self.pending.len() - hold;
        let out = self.pending[..cut].to_string();
        self.pending.drain(..cut);
        (out, false)
    }

    /// What is still held back, once generation ended for another reason.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.pending)
    }

    /// The length of the longest suffix of `pending` that is a proper prefix of a stop string.
    fn longest_stop_prefix_suffix(&self) -> usize {
        let mut best = 0;
        for (start, _) in self.pending.char_indices() {
            let suffix = &self.pending[start..];
            if self
                .stops
                .iter()
                .any(|s| s.len() > suffix.len() && s.starts_with(suffix))
            {
                best = suffix.len();
                break;
            }
        }
        best
    }
}

/// Token pieces are bytes, and a character may be split across tokens: hold incomplete
/// UTF-8 sequences until the rest arrives.
#[derive(Debug, Default)]
pub(crate) struct Utf8Buffer {
    bytes: Vec<u8>,
}

impl Utf8Buffer {
    pub fn push(&mut self, piece: &[u8]) -> String {
        self.bytes.extend_from_slice(piece);
        match std::str::from_utf8(&self.bytes) {
            Ok(text) => {
                let text = text.to_string();
                self.bytes.clear();
                text
            }
            Err(err) if err.error_len().is_none() => {
                // An incomplete sequence at the end: send what is complete, keep the rest.
                let valid = err.valid_up_to();
                let text = String::from_utf8_lossy(&self.bytes[..valid]).into_owned();
                self.bytes.drain(..valid);
                text
            }
            Err(_) => {
                let text = String::from_utf8_lossy(&self.bytes).into_owned();
                self.bytes.clear();
                text
            }
        }
    }

    pub fn finish(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.bytes).into_owned();
        self.bytes.clear();
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], pieces: &[&str]) -> (String, bool) {
        let mut m = StopMatcher::new(stops.iter().map(|s| s.to_string()).collect());
        let mut out = String::new();
        for p in pieces {
            let (text, stopped) = m.push(p);
            out.push_str(&text);
            if stopped {
                return (out, true);
            }
        }
        out.push_str(&m.finish());
        (out, false)
    }

    #[test]
    fn stops_across_pieces_and_never_sends_the_stop() {
        assert_eq!(
            run(&["User:"], &["Hello", "\nUs", "er:", " more"]),
            ("Hello\n".into(), true)
        );
        assert_eq!(run(&["END"], &["a", "E", "N", "X"]), ("aENX".into(), false));
        assert_eq!(run(&["ab", "b"], &["xa", "b"]), ("x".into(), true));
        assert_eq!(run(&[], &["a", "b"]), ("ab".into(), false));
        assert_eq!(run(&["é!"], &["café", "!"]), ("caf".into(), true));
    }

    #[test]
    fn split_characters_are_held_until_complete() {
        let mut b = Utf8Buffer::default();
        let bytes = "é€".as_bytes();
        assert_eq!(b.push(&bytes[..1]), "");
        assert_eq!(b.push(&bytes[1..3]), "é");
        assert_eq!(b.push(&bytes[3..]), "€");
        assert_eq!(b.push(b"\xff"), "\u{fffd}");
    }
}
