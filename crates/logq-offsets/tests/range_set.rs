//! RangeSet against a `BTreeSet<u64>` model.

use std::collections::BTreeSet;
use std::ops::Range;

use logq_offsets::RangeSet;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Insert(u64),
    InsertRange(Range<u64>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u64..200).prop_map(Op::Insert),
        1 => (0u64..200, 0u64..20).prop_map(|(start, len)| Op::InsertRange(start..start + len)),
    ]
}

/// Maximal runs of present offsets at or above `floor`.
fn runs_above(model: &BTreeSet<u64>, floor: u64) -> Vec<Range<u64>> {
    let mut runs: Vec<Range<u64>> = Vec::new();
    for &offset in model.range(floor..) {
        match runs.last_mut() {
            Some(run) if run.end == offset => run.end += 1,
            _ => runs.push(offset..offset + 1),
        }
    }
    runs
}

fn check_against_model(set: &RangeSet, model: &BTreeSet<u64>) {
    let floor = (0..).find(|o| !model.contains(o)).unwrap();
    assert_eq!(set.floor(), floor, "floor is the smallest absent offset");
    assert_eq!(set.first_unacked(), floor);
    let ranges: Vec<Range<u64>> = set.ranges_above_floor().collect();
    assert_eq!(
        ranges,
        runs_above(model, floor),
        "ranges are the maximal runs"
    );
    assert_eq!(set.gap_count(), ranges.len());
    for pair in ranges.windows(2) {
        assert!(
            pair[0].end < pair[1].start,
            "sorted, disjoint, non-adjacent"
        );
    }
    assert!(ranges.iter().all(|r| r.start > floor && r.start < r.end));
    let above = u64::try_from(model.range(floor..).count()).unwrap();
    assert_eq!(set.len_above_floor(), above);
    for offset in 0..230 {
        assert_eq!(
            set.contains(offset),
            model.contains(&offset),
            "contains({offset})"
        );
        let absent = (offset..).find(|o| !model.contains(o)).unwrap();
        assert_eq!(set.first_absent_at_or_after(offset), absent);
    }
    set.check_invariants().unwrap();
}

proptest! {
    #[test]
    fn agrees_with_btreeset(ops in prop::collection::vec(op(), 0..120)) {
        let mut set = RangeSet::new();
        let mut model = BTreeSet::new();
        for op in ops {
            match op {
                Op::Insert(offset) => {
                    let newly = model.insert(offset);
                    prop_assert_eq!(set.insert(offset), newly);
                }
                Op::InsertRange(range) => {
                    let before = model.len();
                    model.extend(range.clone());
                    let added = u64::try_from(model.len() - before).unwrap();
                    prop_assert_eq!(set.insert_range(range), added);
                }
            }
            check_against_model(&set, &model);
        }
    }

    #[test]
    fn insertion_order_does_not_matter(mut offsets in prop::collection::vec(0u64..100, 0..100)) {
        let mut forward = RangeSet::new();
        for &offset in &offsets {
            forward.insert(offset);
        }
        offsets.reverse();
        let mut backward = RangeSet::new();
        for &offset in &offsets {
            backward.insert(offset);
        }
        prop_assert_eq!(forward, backward);
    }

    #[test]
    fn from_parts_round_trips(offsets in prop::collection::btree_set(0u64..300, 0..100)) {
        let mut set = RangeSet::new();
        for &offset in &offsets {
            set.insert(offset);
        }
        let ranges: Vec<Range<u64>> = set.ranges_above_floor().collect();
        prop_assert_eq!(RangeSet::from_parts(set.floor(), &ranges).unwrap(), set);
    }
}

#[test]
fn with_floor_counts_everything_below_as_present() {
    let set = RangeSet::with_floor(10);
    assert!(set.contains(9));
    assert!(!set.contains(10));
    assert_eq!(set.first_absent_at_or_after(3), 10);
    assert_eq!(set.count_above_floor_before(100), 0);
}
