//! All consumer groups of one queue: names, ids, creation and deletion, and the lowest
//! offset any group still needs (what retention may not delete).
//!
//! Invariants: names and ids are unique and map one-to-one; ids are never reused within the
//! life of one `Groups` value (`next_group_id` is above every id seen).

use std::collections::BTreeMap;

use crate::{
    Checkpoint, GroupConfig, GroupError, GroupEvent, GroupId, GroupState, GroupsError, OutcomeRef,
    GROUP_NAME_BYTES_MAX,
};

/// Where a new group starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartPosition {
    /// At the first offset still in the log.
    Earliest,
    /// At the end of the log: only messages sent from now on.
    Next,
    /// At this offset; lower ones count as acknowledged.
    Offset(u64),
}

/// The consumer groups of one queue.
///
/// ```
/// use logq_offsets::{GroupConfig, Groups, StartPosition};
/// let mut groups = Groups::new(GroupConfig::default()).unwrap();
/// assert_eq!(groups.min_unacked_offset(), None);
/// groups.create("audit", StartPosition::Earliest, 10, 50).unwrap();
/// groups.create("mailer", StartPosition::Next, 10, 50).unwrap();
/// assert_eq!(groups.min_unacked_offset(), Some(10));
/// groups.get_mut("audit").unwrap().ack_through(20);
/// assert_eq!(groups.min_unacked_offset(), Some(20));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Groups {
    config: GroupConfig,
    ids: BTreeMap<String, GroupId>,
    groups: BTreeMap<GroupId, (String, GroupState)>,
    next_group_id: u32,
}

impl Groups {
    /// No groups; new groups get `config`.
    pub fn new(config: GroupConfig) -> Result<Self, GroupError> {
        config.validate()?;
        Ok(Self {
            config,
            ids: BTreeMap::new(),
            groups: BTreeMap::new(),
            next_group_id: 1,
        })
    }

    /// Restores groups from their checkpoints (each validated).
    pub fn from_checkpoints(
        config: GroupConfig,
        checkpoints: &[Checkpoint],
    ) -> Result<Self, GroupsError> {
        let mut groups = Self::new(config).map_err(|source| GroupsError::Group {
            group: GroupId(0),
            source,
        })?;
        for checkpoint in checkpoints {
            let state = GroupState::from_checkpoint(config, checkpoint).map_err(|source| {
                GroupsError::Group {
                    group: checkpoint.group,
                    source,
                }
            })?;
            groups.insert(checkpoint.group, &checkpoint.name, state)?;
        }
        Ok(groups)
    }

    /// The id the next created group gets.
    pub fn next_group_id(&self) -> u32 {
        self.next_group_id
    }

    /// Raises the next group id to at least `id` (restoring a checkpoint: ids of deleted
    /// groups are never reused).
    pub fn reserve_group_ids_below(&mut self, id: u32) {
        self.next_group_id = self.next_group_id.max(id);
    }

    /// Checkpoints of every group, by id.
    pub fn checkpoints(&self) -> Vec<Checkpoint> {
        self.groups
            .iter()
            .map(|(&id, (name, state))| state.checkpoint(id, name))
            .collect()
    }

    /// Creates group `name` and returns the event to journal. `log_start` and `log_end` are
    /// the first offset still in the log and the offset the next message will get.
    pub fn create(
        &mut self,
        name: &str,
        start: StartPosition,
        log_start: u64,
        log_end: u64,
    ) -> Result<GroupEvent, GroupsError> {
        let start_offset = match start {
            StartPosition::Earliest => log_start,
            StartPosition::Next => log_end,
            StartPosition::Offset(offset) => offset,
        };
        if self.next_group_id == u32::MAX {
            return Err(GroupsError::IdsExhausted);
        }
        let event = GroupEvent::GroupCreated {
            group: GroupId(self.next_group_id),
            name: name.to_owned(),
            start_offset,
        };
        self.apply(&event, None)?;
        Ok(event)
    }

    /// Deletes group `name` with its state and returns the event to journal.
    pub fn delete(&mut self, name: &str) -> Result<GroupEvent, GroupsError> {
        let group = self.id(name).ok_or_else(|| GroupsError::UnknownGroup {
            name: name.to_owned(),
        })?;
        let event = GroupEvent::GroupDeleted { group };
        self.apply(&event, None)?;
        Ok(event)
    }

    /// Applies one journal event of any group, as replay does.
    pub fn apply(
        &mut self,
        event: &GroupEvent,
        outcome_ref: Option<OutcomeRef>,
    ) -> Result<(), GroupsError> {
        let group = event.group();
        match event {
            GroupEvent::GroupCreated {
                name, start_offset, ..
            } => {
                let state = GroupState::new(self.config, *start_offset)
                    .map_err(|source| GroupsError::Group { group, source })?;
                self.insert(group, name, state)
            }
            GroupEvent::GroupDeleted { .. } => {
                let (name, _) = self
                    .groups
                    .remove(&group)
                    .ok_or(GroupsError::UnknownGroupId { group })?;
                self.ids.remove(&name);
                Ok(())
            }
            _ => self
                .get_by_id_mut(group)
                .ok_or(GroupsError::UnknownGroupId { group })?
                .apply(event, outcome_ref)
                .map_err(|source| GroupsError::Group { group, source }),
        }
    }

    fn insert(&mut self, group: GroupId, name: &str, state: GroupState) -> Result<(), GroupsError> {
        if name.is_empty() || crate::exceeds(name.len(), GROUP_NAME_BYTES_MAX) {
            return Err(GroupsError::BadName {
                len: name.len(),
                max: GROUP_NAME_BYTES_MAX,
            });
        }
        if self.ids.contains_key(name) {
            return Err(GroupsError::GroupExists {
                name: name.to_owned(),
            });
        }
        if self.groups.contains_key(&group) || group.0 == u32::MAX {
            return Err(GroupsError::GroupIdExists { group });
        }
        self.ids.insert(name.to_owned(), group);
        self.groups.insert(group, (name.to_owned(), state));
        self.next_group_id = self.next_group_id.max(group.0 + 1);
        Ok(())
    }

    /// The id of group `name`.
    pub fn id(&self, name: &str) -> Option<GroupId> {
        self.ids.get(name).copied()
    }

    /// Group `name`.
    pub fn get(&self, name: &str) -> Option<&GroupState> {
        self.id(name).and_then(|id| self.get_by_id(id))
    }

    /// Group `name`, to change.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut GroupState> {
        self.id(name).and_then(|id| self.get_by_id_mut(id))
    }

    /// Group `group`.
    pub fn get_by_id(&self, group: GroupId) -> Option<&GroupState> {
        self.groups.get(&group).map(|(_, state)| state)
    }

    /// Group `group`, to change.
    pub fn get_by_id_mut(&mut self, group: GroupId) -> Option<&mut GroupState> {
        self.groups.get_mut(&group).map(|(_, state)| state)
    }

    /// Every group's state, mutable (for [`crate::Replay`]).
    pub(crate) fn states_mut(&mut self) -> impl Iterator<Item = &mut GroupState> + '_ {
        self.groups.values_mut().map(|(_, state)| state)
    }

    /// Every group as (id, name, state), by id.
    pub fn iter(&self) -> impl Iterator<Item = (GroupId, &str, &GroupState)> + '_ {
        self.groups
            .iter()
            .map(|(&id, (name, state))| (id, name.as_str(), state))
    }

    /// How many groups there are.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether there are no groups.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The lowest offset some group has neither acknowledged nor dead-lettered: retention
    /// must keep it and everything above. `None` without groups.
    pub fn min_unacked_offset(&self) -> Option<u64> {
        self.groups
            .values()
            .map(|(_, state)| state.min_unacked_offset())
            .min()
    }
}
