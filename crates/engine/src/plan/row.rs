//! Row execution: one machine at a time, read through [`Machine`], into group bits.

use super::*;
use crate::bits;
use crate::matcher::ValueView;

impl Plan {
    /// Evaluates one machine: the ids of the groups it belongs to, in definition order.
    /// `scratch` holds buffers reused from one call to the next.
    ///
    /// Each field the groups test is read from the machine once (through
    /// [`Machine::attr_at`]), its text folded to lowercase once, and every predicate on it
    /// evaluated into one bit; each group is then a short-circuiting branch program over
    /// those bits. The cost grows with distinct predicates, not with groups.
    pub fn evaluate_into<M: Machine + ?Sized>(
        &self,
        machine: &M,
        now: crate::Timestamp,
        scratch: &mut Scratch,
        members_of: &mut Vec<GroupId>,
    ) {
        members_of.clear();
        members_of.extend(self.memberships(machine, now, scratch).iter());
    }

    /// Evaluates one machine into the groups it belongs to, as a set of bits held in
    /// `scratch` (no allocation once `scratch` is warm): the fastest way to ask "is this
    /// machine in group G" or "in how many groups" for each machine of a fleet.
    ///
    /// ```
    /// use cohort::{GroupSet, Timestamp};
    /// use cohort::engine::{Scratch};
    /// use serde_json::json;
    ///
    /// let groups = GroupSet::from_yaml_str("groups:\n- {name: Low Disk, where: '[Free Disk %] < 10'}\n- {name: Any, where: '[Free Disk %] is not blank'}").unwrap();
    /// let mut scratch = Scratch::new();
    /// let members = groups.plan().memberships(&json!({"Free Disk %": 4}), Timestamp::UNIX_EPOCH, &mut scratch);
    /// assert_eq!(members.len(), 2);
    /// assert!(members.contains(groups.id("Low Disk").unwrap()));
    /// ```
    pub fn memberships<'s, M: Machine + ?Sized>(
        &self,
        machine: &M,
        now: crate::Timestamp,
        scratch: &'s mut Scratch,
    ) -> Memberships<'s> {
        self.predicate_bits(machine, now, scratch);
        let Scratch {
            bits, member_bits, ..
        } = scratch;
        member_bits.clear();
        member_bits.resize(bits::words_for(self.groups.len()), 0);
        for level in &self.levels {
            self.evaluate_level(level, bits, member_bits);
            // Publish this level's memberships to the groups that reference them.
            for &(group, bit) in &level.publish {
                let member = bits::is_set(member_bits, group as usize);
                {
                    bits::set_if(bits, bit as usize, member);
                }
            }
        }
        Memberships { bits: member_bits }
    }

    /// Decides the groups of one level over the predicate (and member) bits.
    fn evaluate_level(&self, level: &Level, bits: &[u64], member_bits: &mut [u64]) {
        // Groups that are one block: 64 at a time, each word starting with every group of
        // the word and losing those whose criteria a predicate bit contradicts.
        let conjunctions = &level.conjunctions;
        for word in &conjunctions.words {
            // The compiler made every word's range within `kills`.
            let kills = &conjunctions.kills[word.kills.start as usize..word.kills.end as usize];
            // Two accumulators, so that consecutive kills do not wait on each other.
            let kill_mask = |kill: &Kill| {
                let bit =
                    bits.get(kill.bit as usize / 64).copied().unwrap_or(0) >> (kill.bit % 64) & 1;
                kill.if_false ^ ((kill.if_true ^ kill.if_false) & bit.wrapping_neg())
            };
            let (mut even, mut odd) = (word.base, u64::MAX);
            let mut pairs = kills.chunks_exact(2);
            for pair in &mut pairs {
                if let [first, second] = pair {
                    even &= !kill_mask(first);
                    odd &= !kill_mask(second);
                }
            }
            for kill in pairs.remainder() {
                even &= !kill_mask(kill);
            }
            let members = even & odd;
            if let Some(out) = member_bits.get_mut(word.group_word as usize) {
                *out |= members;
            }
        }
        for &(group, ref program) in &level.other_groups {
            let member = self.program_holds(program, bits);
            bits::set_if(member_bits, group as usize, member);
        }
    }

    /// Fills `scratch.bits` with the result of every predicate on `machine`.
    fn predicate_bits<M: Machine + ?Sized>(
        &self,
        machine: &M,
        now: crate::Timestamp,
        scratch: &mut Scratch,
    ) {
        self.predicate_bits_of(machine, now, scratch, None);
    }

    /// Fills `scratch.bits` with the results of the predicates on the fields at `fields`
    /// (positions in [`Plan::fields`]; every field when `None`), the other bits cleared.
    pub(crate) fn predicate_bits_of<M: Machine + ?Sized>(
        &self,
        machine: &M,
        now: crate::Timestamp,
        scratch: &mut Scratch,
        fields: Option<&[usize]>,
    ) {
        let Scratch {
            bits,
            buffer,
            folded,
            text_caches,
            cached_for,
            ..
        } = scratch;
        if *cached_for != Some(self.id) {
            text_caches.clear();
            *cached_for = Some(self.id);
        }
        bits.clear();
        // At least four words, so that small plans take the unchecked group loop.
        bits.resize(bits::words_for(self.bit_count).max(4), 0);
        if text_caches.len() < self.field_table.len() {
            text_caches.resize_with(self.field_table.len(), TextCache::default);
        }
        let now = now.unix_millis();
        let mut parts = FieldScratch {
            bits,
            buffer,
            folded,
            text_caches,
        };
        match fields {
            Some(fields) => {
                for &index in fields {
                    self.field_bits(machine, index, now, &mut parts);
                }
            }
            None => {
                for index in 0..self.field_table.len() {
                    self.field_bits(machine, index, now, &mut parts);
                }
            }
        }
    }

    /// Sets the bits of the predicates on the field at `index` of the field table.
    #[inline]
    fn field_bits<M: Machine + ?Sized>(
        &self,
        machine: &M,
        index: usize,
        now: i64,
        parts: &mut FieldScratch<'_>,
    ) {
        let FieldScratch {
            bits,
            buffer,
            folded,
            text_caches,
        } = parts;
        let Some(field) = self.field_table.get(index) else {
            return;
        };
        let attr = machine.attr_at(FieldRef {
            name: &field.name,
            index,
            plan: self.id,
        });
        let text = match attr {
            Some(Attr::Text(text)) => Some(text),
            _ => None,
        };
        // Text on a field with several time-independent predicates: their results for
        // this text may be remembered from an earlier machine.
        let mut cache_miss = None;
        let others = match (attr, text, text_caches.get_mut(index)) {
            (Some(Attr::Number(n)), _, _) if !n.is_nan() => {
                // A number: every interval test on the field at once, by looking the
                // number up among the field's interval ends.
                field.intervals.or_into(n, bits);
                &field.not_intervals
            }
            (Some(Attr::List(list)), _, Some(cache))
                if !field.element_mask.is_empty()
                    && cache.enabled()
                    && list.iter().all(|element| matches!(element, Attr::Text(_))) =>
            {
                for element in list.iter() {
                    let Attr::Text(element) = element else {
                        continue;
                    };
                    let computed;
                    let pattern = match cache.get(element) {
                        Some(pattern) => pattern,
                        None => {
                            computed = self.cached_pattern(field, element, now, buffer, folded);
                            cache.insert(element, computed.clone());
                            &computed
                        }
                    };
                    for ((word, add), mask) in bits.iter_mut().zip(pattern).zip(&field.element_mask)
                    {
                        *word |= add & mask;
                    }
                }
                &field.not_element_cached
            }
            (_, Some(text), Some(cache)) if field.worth_caching && cache.enabled() => {
                match cache.get(text) {
                    Some(pattern) => {
                        for (word, add) in bits.iter_mut().zip(pattern) {
                            *word |= add;
                        }
                    }
                    None => cache_miss = Some(cache),
                }
                &field.not_cached
            }
            _ => &field.predicates,
        };
        if others.is_empty() && cache_miss.is_none() {
            return;
        }
        let folded_text = match text {
            Some(text) if field.folds => {
                folded.clear();
                crate::matcher::fold_case_into(text, folded);
                Some(folded.as_str())
            }
            _ => None,
        };
        let parsed = match text {
            Some(text) if field.parses => Some(Parsed::of(text)),
            _ => None,
        };
        let value = attr.map(|attr| ValueView {
            attr,
            text,
            folded: folded_text,
            parsed,
        });
        if let (Some(cache), Some(text)) = (cache_miss, text) {
            let mut pattern = vec![0u64; bits.len()];
            self.run_predicates(&field.cached, value, now, buffer, &mut pattern);
            for (word, add) in bits.iter_mut().zip(&pattern) {
                *word |= add;
            }
            cache.insert(text, pattern);
        }
        self.run_predicates(others, value, now, buffer, bits);
    }

    /// The results of `field`'s cached predicates on the text `text`, as predicate bits.
    fn cached_pattern(
        &self,
        field: &PlanField,
        text: &str,
        now: i64,
        buffer: &mut String,
        folded: &mut String,
    ) -> Vec<u64> {
        let folded_text = if field.folds {
            folded.clear();
            crate::matcher::fold_case_into(text, folded);
            Some(folded.as_str())
        } else {
            None
        };
        let value = ValueView {
            attr: Attr::Text(text),
            text: Some(text),
            folded: folded_text,
            parsed: field.parses.then(|| Parsed::of(text)),
        };
        let mut pattern = vec![0u64; bits::words_for(self.bit_count).max(4)];
        self.run_predicates(&field.cached, Some(value), now, buffer, &mut pattern);
        pattern
    }

    /// Sets the bits of the predicates in `ids` that hold on one field's value.
    fn run_predicates(
        &self,
        ids: &[u32],
        value: Option<ValueView<'_>>,
        now: i64,
        buffer: &mut String,
        bits: &mut [u64],
    ) {
        for &predicate_index in ids {
            // The compiler made every predicate id of a field an index of `predicates`.
            let held = self.predicates[predicate_index as usize].holds(value, now, buffer);
            bits::set_if(bits, predicate_index as usize, held);
        }
    }

    fn program_holds(&self, program: &GroupProgram, bits: &[u64]) -> bool {
        match program {
            GroupProgram::Pair([first, second]) => first.holds(bits) & second.holds(bits),
            GroupProgram::Blocks(range) => self.any_block_holds(range.clone(), bits),
            GroupProgram::PairBlocks(range) => self.pair_blocks
                [range.start as usize..range.end as usize]
                .iter()
                .any(|[first, second]| first.holds(bits) & second.holds(bits)),
            GroupProgram::Branches(entry) => self.runs_true(*entry, bits),
        }
    }

    /// Whether group `id` holds over bits filled by [`Plan::predicate_bits_of`] (with the
    /// fields it reads) and the member bits of the groups it references.
    pub(crate) fn group_holds(&self, id: GroupId, bits: &[u64]) -> bool {
        self.programs
            .get(id.index())
            .is_some_and(|program| self.program_holds(program, bits))
    }

    /// Whether one of the blocks in `range` has every term true.
    fn any_block_holds(&self, range: std::ops::Range<u32>, bits: &[u64]) -> bool {
        // The compiler made every range within `blocks` and `terms`.
        let blocks = &self.blocks[range.start as usize..range.end as usize];
        blocks.iter().any(|block| {
            self.terms[block.start as usize..block.end as usize]
                .iter()
                .all(|term| term.holds(bits))
        })
    }

    /// Runs a group's branch program from `entry` over predicate bits.
    fn runs_true(&self, entry: u32, bits: &[u64]) -> bool {
        let mut at = entry;
        loop {
            match at {
                BRANCH_TRUE => return true,
                BRANCH_FALSE => return false,
                _ => {}
            }
            let Some(branch) = self.branches.get(at as usize) else {
                return false;
            };
            let bit = bits::is_set(bits, branch.predicate as usize);
            at = if bit != branch.negated {
                branch.if_true
            } else {
                branch.if_false
            };
        }
    }
}

/// The groups one machine belongs to, as bits (from [`Plan::memberships`]).
#[derive(Clone, Copy, Debug)]
pub struct Memberships<'s> {
    bits: &'s [u64],
}

impl Memberships<'_> {
    /// Whether the machine is in group `id`.
    pub fn contains(&self, id: GroupId) -> bool {
        bits::is_set(self.bits, id.index())
    }

    /// The number of groups the machine is in.
    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the machine is in no group.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|&w| w == 0)
    }

    /// The groups, in definition order.
    pub fn iter(&self) -> impl Iterator<Item = GroupId> + '_ {
        bits::set_bits(self.bits).map(|index| GroupId(index as u32))
    }
}

impl Scratch {
    /// The bits filled by the last evaluation.
    pub(crate) fn bits_mut(&mut self) -> &mut Vec<u64> {
        &mut self.bits
    }
}

/// Buffers reused between evaluations, so evaluating a machine allocates nothing once warm
/// (except to fold non-ASCII text with capitals).
#[derive(Debug, Default)]
pub struct Scratch {
    /// One bit per predicate of the plan.
    bits: Vec<u64>,
    /// One bit per group.
    member_bits: Vec<u64>,
    /// Per field of the plan: remembered results by text value.
    text_caches: Vec<TextCache>,
    /// The plan the caches belong to (a scratch may move between plans).
    cached_for: Option<PlanId>,
    buffer: String,
    folded: String,
}

impl Scratch {
    /// Empty buffers.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The parts of a [`Scratch`] that reading one field writes.
pub(super) struct FieldScratch<'s> {
    pub(super) bits: &'s mut Vec<u64>,
    pub(super) buffer: &'s mut String,
    pub(super) folded: &'s mut String,
    pub(super) text_caches: &'s mut Vec<TextCache>,
}

/// Remembered predicate results by text value, for one field (see [`PlanField::cached`]):
/// low-cardinality text (OS names, dropdowns) is tested once per distinct value, not once
/// per machine. A cache that mostly misses (hostnames, serial numbers) turns itself off.
#[derive(Debug, Default)]
pub(super) struct TextCache {
    /// Keyed by a hash seeded at random per cache: the texts come from endpoints.
    pub(super) patterns: HashMap<Box<str>, Box<[u64]>, foldhash::fast::RandomState>,
    pub(super) lookups: u32,
    pub(super) misses: u32,
    pub(super) disabled: bool,
}

/// Entries kept per field before the cache starts over.
pub(super) const TEXT_CACHE_ENTRIES: usize = 4096;

impl TextCache {
    pub(super) fn enabled(&self) -> bool {
        !self.disabled
    }

    pub(super) fn get(&mut self, text: &str) -> Option<&[u64]> {
        self.lookups += 1;
        if self.lookups == 1 << 14 {
            // Judge the hit rate once: off for good when more than half the lookups missed.
            self.disabled = self.misses > self.lookups / 2;
            if self.disabled {
                self.patterns = HashMap::default();
            }
        }
        let found = self.patterns.get(text).map(|p| &**p);
        if found.is_none() {
            self.misses = self.misses.saturating_add(1);
        }
        found
    }

    pub(super) fn insert(&mut self, text: &str, pattern: Vec<u64>) {
        if self.disabled {
            return;
        }
        if self.patterns.len() >= TEXT_CACHE_ENTRIES {
            self.patterns.clear();
        }
        self.patterns
            .insert(text.into(), pattern.into_boxed_slice());
    }
}
