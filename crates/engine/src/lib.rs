//! Compiles checked groups into a [`Plan`] and evaluates machines against it.
//!
//! ```text
//! checked IR ─► Plan (fields interned, predicates shared, matchers built) ─► membership
//!                                                                        └─► explanations
//! ```
//!
//! * [`Machine`] is the embedder's side of the boundary: a machine is anything that can hand
//!   out borrowed attribute values ([`Attr`]).
//! * [`Plan`] is immutable and `Send + Sync`. Evaluation cannot fail, reads no clock (the
//!   caller passes a [`Timestamp`]), does no IO, and allocates nothing per machine once its
//!   [`Scratch`] is warm (except to fold non-ASCII capitals and to remember the results for a
//!   text not seen before).
//! * [`Plan::explain`] is a separate path that records every criterion's result, using the
//!   same compiled predicates.
//! * [`MembershipTracker`] keeps live membership over a changing fleet and reports who
//!   joined and left each group.
//!
//! Embedders normally use this crate through the `cohort` facade.

mod bits;
mod columnar;
mod dictionary;
mod explain;
mod live;
mod live_columns;
mod live_load;
mod machine;
mod matcher;
mod plan;
mod time;

pub use columnar::{Bitset, ColumnWriter, ColumnarBuilder, ColumnarFleet, GroupBitsets};
pub use explain::{ComparedAs, CriterionResult, ExplainNode, Explanation};
pub use live::{Change, DefinitionEvent, MembershipEvent, MembershipTracker, ReplaceError};
pub use machine::{Attr, AttrList, MAX_LIST_DEPTH, Machine, Record, Value};
pub use plan::{FieldRef, GroupId, Memberships, Plan, PlanId, Scratch};
pub use time::Timestamp;

/// The members of every group over a fleet, as machine positions in input order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FleetMembership {
    machines: usize,
    members: Vec<Vec<usize>>,
}

impl FleetMembership {
    /// How many machines were evaluated.
    pub fn machine_count(&self) -> usize {
        self.machines
    }

    /// The positions (in input order) of the members of group `id`.
    pub fn members(&self, id: GroupId) -> &[usize] {
        self.members.get(id.index()).map_or(&[], Vec::as_slice)
    }
}

impl Plan {
    /// Evaluates every machine of a fleet; returns the members of every group.
    pub fn evaluate_fleet<M: Machine>(
        &self,
        machines: impl IntoIterator<Item = M>,
        now: Timestamp,
    ) -> FleetMembership {
        let mut scratch = Scratch::new();
        let mut groups = Vec::new();
        let mut membership = FleetMembership {
            machines: 0,
            members: vec![Vec::new(); self.group_count()],
        };
        for (position, machine) in machines.into_iter().enumerate() {
            self.evaluate_into(&machine, now, &mut scratch, &mut groups);
            for id in &groups {
                if let Some(members) = membership.members.get_mut(id.index()) {
                    members.push(position);
                }
            }
            membership.machines = position + 1;
        }
        membership
    }
}

#[cfg(all(test, feature = "serde_json"))]
mod tests;
