//! Hand-written prose on one topic (home composting) and a deterministic text generator.

use super::super::minhash::splitmix64;

/// Knowledge-base passages and an earlier article: the sources a section may copy.
pub const SOURCES: [(&str, &str); 4] = [
    (
        "kb/composting-basics#1",
        "A compost pile needs a balance of two kinds of material. Greens such as grass \
         clippings, vegetable scraps and coffee grounds supply nitrogen, while browns such as \
         dry leaves, straw and shredded cardboard supply carbon. Most guides recommend roughly \
         three parts brown to one part green by volume. Too much green material makes the pile \
         wet and smelly because it runs short of oxygen; too much brown material makes it slow, \
         since the microbes that do the work are starved of nitrogen.",
    ),
    (
        "kb/composting-basics#2",
        "Moisture and air matter as much as the mix. The pile should feel like a wrung-out \
         sponge: damp throughout but never dripping. Turning it with a garden fork every week \
         or two lets fresh air reach the centre, where aerobic bacteria raise the temperature \
         to between 55 and 65 degrees Celsius. At that heat most weed seeds and pathogens die \
         within a few days, and the volume of the heap can shrink by half over a month.",
    ),
    (
        "kb/troubleshooting",
        "When a heap stops heating, the cause is usually one of three things. It may be too \
         dry, in which case water should be added while turning; it may be too small to hold \
         its warmth, since a pile under about one cubic metre loses heat faster than the \
         microbes can make it; or it may lack nitrogen, which a few buckets of fresh grass or a \
         sprinkling of chicken manure will put right. A heap that smells of ammonia has the \
         opposite problem and needs more brown material.",
    ),
    (
        "articles/2024-worm-bins",
        "Worm bins suit people without a garden. Red wigglers, not earthworms dug from the \
         lawn, are the species to buy, because they live in the top layer of decaying matter \
         and tolerate crowding. A bin kept indoors at room temperature can process around half \
         a kilogram of kitchen scraps a week for every kilogram of worms, and the castings they \
         leave behind are one of the richest soil amendments a gardener can use. Citrus peel, \
         onions and meat should be kept out of the bin.",
    ),
];

/// An original five-paragraph section on the same topic, written without the sources.
pub const ORIGINAL: [&str; 5] = [
    "Anyone who has tried composting in a small backyard knows that the first attempt rarely \
     goes to plan. The usual mistake is to throw everything from the kitchen into a bin and \
     wait, expecting rich dark soil to appear by itself after a season.",
    "Getting the ingredients right is the first step. Fresh, soft waste like lettuce leaves \
     and tea bags rots quickly and releases nitrogen, whereas woody or papery waste breaks \
     down slowly and adds carbon. A heap built mostly from kitchen leftovers turns into a \
     slimy mess; one built mostly from autumn leaves just sits there for a year. Mixing the \
     two, with more of the dry stuff than the wet, keeps the process moving.",
    "Water and oxygen come next. Squeeze a handful from the middle of the heap: if a few drops \
     appear, it is about right, and if water streams out, add cardboard. Air gets in when the \
     heap is mixed, so a quick turn every fortnight speeds things up considerably and helps \
     the core get properly hot.",
    "Heat is the sign that things are working. A well built heap can become too hot to hold a \
     hand in within a week, and that warmth kills off the seeds of weeds that would otherwise \
     sprout wherever the finished compost is spread. If the temperature never climbs, the \
     heap is often simply not large enough, or it has dried out over the summer.",
    "Finished compost is dark, crumbly and smells of a forest floor. It usually takes between \
     six months and a year to get there in a cool climate, and sieving out the lumps that \
     have not broken down, then adding them to the next batch, makes the most of every load.",
];

/// Close paraphrases of the first two sources: the same facts in other words.
pub const PARAPHRASES: [&str; 2] = [
    "Every compost heap depends on mixing two types of waste. Nitrogen comes from the green \
     part: lawn cuttings, peelings and used coffee. Carbon comes from the brown part: fallen \
     leaves, straw and torn-up cardboard. A ratio of about three measures of brown for each \
     measure of green is the common advice. If the greens dominate, the heap turns soggy and \
     starts to stink as oxygen runs out; if the browns dominate, decomposition crawls because \
     the microorganisms lack nitrogen.",
    "The mixture is only half the story; water and oxygen count just as much. Aim for the \
     dampness of a squeezed-out sponge, moist all the way through without any dripping. \
     Forking the heap over weekly or fortnightly brings air into the middle, where \
     oxygen-loving bacteria push the heat up to 55–65 °C. Such temperatures destroy most weed \
     seeds and disease organisms in days, and within a month the heap may lose half its bulk.",
];

/// The second source edited by hand: words swapped and changed, a sentence moved.
pub const HAND_EDITED_COPY: &str = "Air and moisture matter as much as the mix. Turning it \
     with a garden fork every week or so lets fresh air reach the middle, where aerobic \
     bacteria raise the temperature to between 55 and 65 degrees Celsius. The heap should \
     feel like a wrung-out sponge: damp throughout but never dripping. At that heat most weed \
     seeds and pathogens die within a few days, and the volume of the pile can shrink by half \
     over a month.";

/// Everyday English words, for generated unrelated passages and word replacements.
const VOCABULARY: &[&str] = &[
    "the",
    "of",
    "and",
    "a",
    "to",
    "in",
    "is",
    "that",
    "it",
    "was",
    "for",
    "on",
    "are",
    "as",
    "with",
    "they",
    "at",
    "be",
    "this",
    "from",
    "have",
    "or",
    "by",
    "one",
    "had",
    "not",
    "but",
    "what",
    "all",
    "were",
    "when",
    "we",
    "there",
    "can",
    "an",
    "your",
    "which",
    "their",
    "if",
    "do",
    "will",
    "each",
    "about",
    "how",
    "up",
    "out",
    "them",
    "then",
    "she",
    "many",
    "some",
    "so",
    "these",
    "would",
    "other",
    "into",
    "has",
    "more",
    "her",
    "two",
    "like",
    "him",
    "see",
    "time",
    "could",
    "no",
    "make",
    "than",
    "first",
    "been",
    "its",
    "who",
    "now",
    "people",
    "my",
    "made",
    "over",
    "did",
    "down",
    "only",
    "way",
    "find",
    "use",
    "may",
    "water",
    "long",
    "little",
    "very",
    "after",
    "words",
    "called",
    "just",
    "where",
    "most",
    "know",
    "river",
    "train",
    "station",
    "ticket",
    "mountain",
    "harbour",
    "engine",
    "signal",
    "bridge",
    "tunnel",
    "journey",
    "timetable",
    "carriage",
    "platform",
    "driver",
    "freight",
    "passenger",
    "railway",
    "track",
    "steam",
    "diesel",
    "electric",
    "line",
    "junction",
    "viaduct",
    "summit",
    "gradient",
    "locomotive",
    "depot",
    "coal",
    "boiler",
    "whistle",
    "guard",
    "porter",
    "luggage",
    "evening",
    "morning",
    "winter",
    "summer",
    "village",
    "city",
    "coast",
    "valley",
    "north",
    "south",
    "east",
    "west",
    "old",
    "new",
    "fast",
    "slow",
    "heavy",
    "light",
    "early",
    "late",
    "quiet",
    "busy",
    "narrow",
    "wide",
    "built",
    "opened",
    "closed",
    "restored",
    "carried",
    "crossed",
    "climbed",
    "reached",
    "ran",
    "stopped",
];

/// A deterministic pseudo-random source (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (splitmix64(&mut self.0) % n as u64) as usize
    }

    pub fn word(&mut self) -> &'static str {
        VOCABULARY[self.below(VOCABULARY.len())]
    }
}

/// Unrelated English-looking prose (railways) of about `words` words, in sentences.
pub fn unrelated_passage(rng: &mut Rng, words: usize) -> String {
    let mut out = String::new();
    for i in 0..words {
        let word = rng.word();
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
        if rng.below(12) == 0 {
            out.push('.');
        }
    }
    out.push('.');
    out
}

/// Text of `words` synthetic tokens from a vocabulary of `vocabulary` (so that independent
/// texts share almost no shingles).
pub fn token_text(rng: &mut Rng, words: usize, vocabulary: usize) -> Vec<String> {
    (0..words)
        .map(|_| format!("t{}", rng.below(vocabulary)))
        .collect()
}

/// `text` with `share` of its words, at random positions, replaced by other words.
pub fn replace_words(rng: &mut Rng, text: &str, share: f64) -> String {
    let mut words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    let n = (words.len() as f64 * share).round() as usize;
    let mut positions: Vec<usize> = (0..words.len()).collect();
    for i in 0..n {
        let j = i + rng.below(positions.len() - i);
        positions.swap(i, j);
        let at = positions[i];
        words[at] = format!("x{}", rng.word());
    }
    words.join(" ")
}
