//! Replays every input of the fuzz corpus (`fuzz/corpus/<target>/`) and the generated seed
//! corpus through the fuzz target bodies of `logq_sim::fuzz`, so every input the fuzzer ever
//! kept — crashes it found included, once added there — stays fixed in the default
//! `cargo test`.
//!
//! `LOGQ_FUZZ_WRITE_SEEDS=1 cargo test -p logq-sim --test fuzz_corpus` (re)writes the seed
//! files `seed-*` into `fuzz/corpus/<target>/`.

use logq_sim::fuzz::{run_target, seed_corpus, TARGETS};
use std::path::PathBuf;

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

#[test]
fn seeds_are_written_when_asked() {
    if std::env::var_os("LOGQ_FUZZ_WRITE_SEEDS").is_none() {
        return;
    }
    for target in TARGETS {
        let dir = corpus_dir(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in seed_corpus(target) {
            std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
        }
    }
}

#[test]
fn every_target_has_valid_seeds() {
    for target in TARGETS {
        let seeds = seed_corpus(target);
        assert!(seeds.len() >= 5, "{target}: only {} seeds", seeds.len());
        for (name, bytes) in seeds {
            run_target(target, &bytes).unwrap_or_else(|e| panic!("{target}/{name}: {e}"));
        }
    }
}

#[test]
fn replay_checked_in_corpus() {
    let mut replayed = 0;
    for target in TARGETS {
        let dir = corpus_dir(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            panic!("missing corpus directory {}", dir.display());
        };
        let mut count = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            run_target(target, &bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            count += 1;
        }
        assert!(count > 0, "{target}: empty corpus");
        replayed += count;
    }
    eprintln!("replayed {replayed} corpus inputs");
}

#[test]
fn an_unknown_target_is_refused() {
    assert!(run_target("no-such-target", b"").is_err());
}
