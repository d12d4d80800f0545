//! A set of `u64` offsets stored as a floor plus disjoint ranges above it.
//!
//! Invariants (checked by [`RangeSet::check_invariants`] and the property tests):
//! - every offset `< floor` is in the set and `floor` itself is not;
//! - above the floor the set is a map `start -> end` of half-open ranges with
//!   `floor < start < end`, sorted, and *non-adjacent*: for consecutive ranges
//!   `a`, `b` we have `a.end < b.start` (touching ranges are always merged);
//! - hence every range is preceded by a gap, memory is proportional to the number of gaps,
//!   and the number of ranges equals the number of maximal runs above the floor.
//!
//! `u64::MAX` cannot be represented (it is the exclusive end of the offset space);
//! [`RangeSet::insert`] refuses it.

use std::collections::BTreeMap;
use std::ops::Range;

/// Offsets `< floor` plus disjoint, non-adjacent ranges above the floor.
///
/// ```
/// use logq_offsets::RangeSet;
/// let mut acked = RangeSet::new();
/// assert!(acked.insert(1));
/// assert!(acked.insert(3));
/// assert_eq!(acked.floor(), 0);
/// assert_eq!(acked.gap_count(), 2);
/// assert!(acked.insert(0)); // merges 0 and 1 into the floor
/// assert_eq!(acked.floor(), 2);
/// assert_eq!(acked.ranges_above_floor().collect::<Vec<_>>(), vec![3..4]);
/// assert!(!acked.insert(1)); // already present
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeSet {
    floor: u64,
    /// start -> end (exclusive); see the module invariants.
    ranges: BTreeMap<u64, u64>,
    /// Sum of the lengths of `ranges`.
    len_above_floor: u64,
}

impl RangeSet {
    /// An empty set (floor 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// A set holding every offset below `floor` and nothing else.
    pub fn with_floor(floor: u64) -> Self {
        Self {
            floor,
            ranges: BTreeMap::new(),
            len_above_floor: 0,
        }
    }

    /// The smallest offset not in the set; every offset below it is in the set.
    pub fn floor(&self) -> u64 {
        self.floor
    }

    /// Same as [`floor`](Self::floor): the first unacknowledged offset.
    pub fn first_unacked(&self) -> u64 {
        self.floor
    }

    /// The smallest offset `>= offset` not in the set (`u64::MAX` if none is representable).
    pub fn first_absent_at_or_after(&self, offset: u64) -> u64 {
        if offset < self.floor {
            return self.floor;
        }
        match self.ranges.range(..=offset).next_back() {
            Some((_, &end)) if end > offset => end,
            _ => offset,
        }
    }

    /// Whether `offset` is in the set.
    pub fn contains(&self, offset: u64) -> bool {
        if offset < self.floor {
            return true;
        }
        matches!(self.ranges.range(..=offset).next_back(), Some((_, &end)) if end > offset)
    }

    /// Adds one offset; returns whether it was newly added. `u64::MAX` is refused (`false`).
    pub fn insert(&mut self, offset: u64) -> bool {
        match offset.checked_add(1) {
            Some(end) => self.insert_range(offset..end) == 1,
            None => false,
        }
    }

    /// Adds every offset of `range`; returns how many were newly added.
    pub fn insert_range(&mut self, range: Range<u64>) -> u64 {
        let mut start = range.start.max(self.floor);
        let mut end = range.end;
        if start >= end {
            return 0;
        }
        // Ranges that overlap or touch [start, end): their start <= end and their end >= start.
        let touching: Vec<(u64, u64)> = self
            .ranges
            .range(..=end)
            .rev()
            .take_while(|&(_, &e)| e >= start)
            .map(|(&s, &e)| (s, e))
            .collect();
        let mut already_present = 0;
        for (s, e) in touching {
            self.ranges.remove(&s);
            already_present += e - s;
            self.len_above_floor -= e - s;
            start = start.min(s);
            end = end.max(e);
        }
        let added = (end - start) - already_present;
        if start == self.floor {
            // Non-adjacency guarantees no range starts at `end`.
            self.floor = end;
        } else {
            self.ranges.insert(start, end);
            self.len_above_floor += end - start;
        }
        added
    }

    /// The ranges above the floor, ascending.
    pub fn ranges_above_floor(&self) -> impl DoubleEndedIterator<Item = Range<u64>> + '_ {
        self.ranges.iter().map(|(&s, &e)| s..e)
    }

    /// The number of gaps (runs of absent offsets) between the floor and the last range;
    /// equals the number of ranges above the floor.
    pub fn gap_count(&self) -> usize {
        self.ranges.len()
    }

    /// How many offsets above the floor are in the set.
    pub fn len_above_floor(&self) -> u64 {
        self.len_above_floor
    }

    /// How many offsets in `[floor, before)` are in the set.
    pub fn count_above_floor_before(&self, before: u64) -> u64 {
        self.ranges
            .range(..before)
            .map(|(&s, &e)| e.min(before) - s)
            .sum()
    }

    /// Rebuilds a set from a floor and ranges, checking every invariant.
    pub fn from_parts(floor: u64, ranges: &[Range<u64>]) -> Result<Self, &'static str> {
        let mut set = Self::with_floor(floor);
        let mut previous_end = floor;
        for range in ranges {
            if range.start >= range.end {
                return Err("empty range");
            }
            if range.start <= previous_end {
                return Err("range not above the floor and the previous range with a gap");
            }
            previous_end = range.end;
            set.ranges.insert(range.start, range.end);
            set.len_above_floor += range.end - range.start;
        }
        Ok(set)
    }

    /// Checks the module invariants; used by tests.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        let ranges: Vec<Range<u64>> = self.ranges_above_floor().collect();
        let rebuilt = Self::from_parts(self.floor, &ranges)?;
        if rebuilt.len_above_floor != self.len_above_floor {
            return Err("stale length above the floor");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_adjacent_ranges_from_both_sides() {
        let mut set = RangeSet::new();
        assert_eq!(set.insert_range(5..7), 2);
        assert_eq!(set.insert_range(9..10), 1);
        assert_eq!(set.insert_range(7..9), 2);
        assert_eq!(set.ranges_above_floor().collect::<Vec<_>>(), vec![5..10]);
        assert_eq!(set.insert_range(0..6), 5);
        assert_eq!(set.floor(), 10);
        assert_eq!(set.gap_count(), 0);
        assert_eq!(set.len_above_floor(), 0);
    }

    #[test]
    fn max_offset_is_refused() {
        let mut set = RangeSet::new();
        assert!(!set.insert(u64::MAX));
        assert!(!set.contains(u64::MAX));
        assert_eq!(set.insert_range(u64::MAX - 1..u64::MAX), 1);
        assert_eq!(set.first_absent_at_or_after(u64::MAX - 1), u64::MAX);
    }

    #[test]
    fn from_parts_rejects_adjacent_ranges() {
        assert!(RangeSet::from_parts(0, &[1..2, 2..3]).is_err());
        assert!(RangeSet::from_parts(1, std::slice::from_ref(&(1..2))).is_err());
        assert!(RangeSet::from_parts(0, &[1..2, 3..4]).is_ok());
    }
}
