//! The compiled plan: fields interned, predicates shared between groups, groups as formulas.

use crate::machine::{Attr, Machine, OwnedAttr, Record};
use crate::matcher::{Context, Kernel, Matcher, Outcome, Parsed};
use cohort_check::ir::{CheckedSet, Condition, Predicate, Test};
use std::collections::HashMap;
use std::sync::Arc;

/// Identifies a group in a plan: its position in definition order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub(crate) u32);

impl GroupId {
    /// The position of the group in definition order, from 0.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PredicateId(pub(crate) u32);

/// A positive predicate, shared by every criterion (in any group) that tests the same thing.
#[derive(Debug)]
pub(crate) struct CompiledPredicate {
    pub(crate) field: Arc<str>,
    pub(crate) matcher: Matcher,
    pub(crate) kernel: Kernel,
    pub(crate) fold: bool,
}

/// A group's condition over predicate ids.
#[derive(Debug)]
pub(crate) enum Formula {
    All(Vec<Formula>),
    Any(Vec<Formula>),
    Not(Box<Formula>),
    /// A criterion: its predicate, whether it is negated, and where it came from.
    Criterion {
        predicate: PredicateId,
        negated: bool,
        label: Arc<str>,
        text: Arc<str>,
    },
    /// `member of` another group (evaluated before this one).
    Member {
        group: GroupId,
        negated: bool,
        label: Arc<str>,
        text: Arc<str>,
    },
}

#[derive(Debug)]
pub(crate) struct CompiledGroup {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) formula: Formula,
    pub(crate) block_shaped: bool,
}

/// Checked groups compiled for evaluation. Immutable, `Send + Sync`: share one plan between
/// threads and evaluate with a [`Scratch`] each.
#[derive(Debug)]
pub struct Plan {
    pub(crate) predicates: Vec<CompiledPredicate>,
    pub(crate) groups: Vec<CompiledGroup>,
    id: PlanId,
    /// The distinct fields in first-use order, each with its predicates: row evaluation
    /// reads each field once per machine and folds its case once.
    field_table: Vec<PlanField>,
    /// For each predicate, the position of its field in `field_table`.
    predicate_field: Vec<usize>,
    /// The groups by level: a group's level is above the levels of the groups it
    /// references (`member of`), so each level reads the groups of the levels before it.
    /// Without references, one level holds every group.
    levels: Vec<Level>,
    /// The groups in an order where each follows the groups it references.
    pub(crate) evaluation_order: Vec<GroupId>,
    /// How each group is decided, by group (for evaluating some groups only).
    programs: Vec<GroupProgram>,
    /// For each group that another references: the bit that holds its membership.
    pub(crate) member_bit: Vec<Option<u32>>,
    /// Predicate bits plus one bit per referenced group.
    bit_count: usize,
    /// The branch programs of the groups that are not a few blocks of criteria.
    branches: Vec<Branch>,
    /// The blocks of the groups that are: each block a range of `terms`.
    blocks: Vec<std::ops::Range<u32>>,
    terms: Vec<MaskTerm>,
    /// The field names shared by every [`Record`] of this plan.
    record_fields: std::sync::OnceLock<Arc<[Arc<str>]>>,
}

impl Plan {
    /// Compiles checked groups. Criteria that test the same field the same way share one
    /// predicate, whatever group they are in, so each is evaluated once per machine.
    pub fn compile(checked: &CheckedSet) -> Plan {
        let mut compiler = Compiler::default();
        let groups: Vec<CompiledGroup> = checked
            .groups
            .iter()
            .map(|group| CompiledGroup {
                name: group.name.clone(),
                description: group.description.clone(),
                formula: compiler.condition(&group.condition),
                block_shaped: group.block_shaped,
            })
            .collect();
        let mut field_table: Vec<PlanField> = Vec::new();
        // Field positions by name: a search per predicate made compiling quadratic in the
        // number of distinct fields (100,000 fields: 98 s).
        let mut positions: HashMap<Arc<str>, usize> = HashMap::new();
        let mut predicate_field = Vec::with_capacity(compiler.predicates.len());
        for (index, predicate) in compiler.predicates.iter().enumerate() {
            let position = match positions.get(&predicate.field) {
                Some(&position) => position,
                None => {
                    positions.insert(predicate.field.clone(), field_table.len());
                    field_table.push(PlanField {
                        name: predicate.field.clone(),
                        predicates: Vec::new(),
                        intervals: IntervalTable::default(),
                        not_intervals: Vec::new(),
                        cached: Vec::new(),
                        not_cached: Vec::new(),
                        worth_caching: false,
                        element_mask: Vec::new(),
                        not_element_cached: Vec::new(),
                        folds: false,
                        parses: false,
                    });
                    field_table.len() - 1
                }
            };
            predicate_field.push(position);
            if let Some(field) = field_table.get_mut(position) {
                field.predicates.push(index as u32);
                if predicate.kernel.number_interval().is_none() {
                    field.not_intervals.push(index as u32);
                }
                if predicate.matcher.reads_the_time() {
                    field.not_cached.push(index as u32);
                } else {
                    field.cached.push(index as u32);
                }
                field.folds |= predicate.fold;
            }
        }
        let words = compiler.predicates.len().div_ceil(64);
        for field in &mut field_table {
            let intervals: Vec<(u32, f64, f64)> = field
                .predicates
                .iter()
                .filter_map(|&p| {
                    let (low, high) = compiler
                        .predicates
                        .get(p as usize)?
                        .kernel
                        .number_interval()?;
                    Some((p, low, high))
                })
                .collect();
            field.intervals = IntervalTable::new(&intervals, words);
            let cheap = field
                .cached
                .iter()
                .filter_map(|&p| compiler.predicates.get(p as usize))
                .filter(|p| p.kernel.is_cheap())
                .count();
            field.worth_caching =
                field.cached.len() >= 2 && (cheap < field.cached.len() || cheap >= 8);
            // On a list of texts, the cached predicates that hold when some element holds
            // are read from each element's remembered results.
            let mut element_mask = vec![0u64; words];
            for &p in &field.cached {
                let any_element = compiler
                    .predicates
                    .get(p as usize)
                    .is_some_and(|predicate| predicate.matcher.holds_on_any_element());
                if any_element && let Some(word) = element_mask.get_mut(p as usize / 64) {
                    *word |= 1 << (p % 64);
                }
            }
            if element_mask.iter().any(|&word| word != 0) {
                field.not_element_cached = field
                    .predicates
                    .iter()
                    .copied()
                    .filter(|&p| {
                        element_mask
                            .get(p as usize / 64)
                            .is_none_or(|word| word >> (p % 64) & 1 == 0)
                    })
                    .collect();
                field.element_mask = element_mask;
            }
            let parsing = field
                .predicates
                .iter()
                .filter_map(|&p| compiler.predicates.get(p as usize))
                .filter(|p| p.matcher.reads_number_or_date())
                .count();
            field.parses = parsing >= 2;
        }
        let mut branches = Vec::new();
        let mut blocks = Vec::new();
        let mut terms = Vec::new();
        // Referenced groups get a bit after the predicates'.
        let mut member_bit: Vec<Option<u32>> = vec![None; groups.len()];
        let mut bit_count = compiler.predicates.len();
        for group in &groups {
            group.formula.visit_members(&mut |id| {
                if let Some(slot) = member_bit.get_mut(id.index())
                    && slot.is_none()
                {
                    *slot = Some(bit_count as u32);
                    bit_count += 1;
                }
            });
        }
        let evaluation_order: Vec<GroupId> = checked
            .evaluation_order
            .iter()
            .map(|&position| GroupId(position as u32))
            .collect();
        let mut level_of = vec![0usize; groups.len()];
        for id in &evaluation_order {
            let mut level = 0;
            if let Some(group) = groups.get(id.index()) {
                group.formula.visit_members(&mut |referenced| {
                    level = level.max(level_of.get(referenced.index()).map_or(0, |l| l + 1));
                });
            }
            if let Some(slot) = level_of.get_mut(id.index()) {
                *slot = level;
            }
        }
        let mut levels: Vec<Level> = Vec::new();
        let mut programs: Vec<GroupProgram> = Vec::with_capacity(groups.len());
        for (index, group) in groups.iter().enumerate() {
            let level_index = level_of.get(index).copied().unwrap_or(0);
            while levels.len() <= level_index {
                levels.push(Level::default());
            }
            let Some(level) = levels.get_mut(level_index) else {
                continue;
            };
            let index = index as u32;
            if let Some(bit) = member_bit.get(index as usize).copied().flatten() {
                level.publish.push((index, bit));
            }
            let literal = |formula: &Formula| -> Option<Literal> { formula.literal(&member_bit) };
            match disjunctive_blocks(&group.formula, &literal) {
                Some(literal_blocks) if literal_blocks.len() == 1 => {
                    let block = literal_blocks.first().map_or(&[][..], Vec::as_slice);
                    level.conjunctions.add(index, block);
                    match term_pair(block) {
                        Some(pair) => programs.push(GroupProgram::Pair(pair)),
                        None => {
                            let start = terms.len() as u32;
                            terms.extend(mask_terms(block));
                            blocks.push(start..terms.len() as u32);
                            let range = (blocks.len() - 1) as u32..blocks.len() as u32;
                            programs.push(GroupProgram::Blocks(range));
                        }
                    }
                }
                Some(literal_blocks) => {
                    let first = blocks.len() as u32;
                    for block in literal_blocks {
                        let start = terms.len() as u32;
                        terms.extend(mask_terms(&block));
                        blocks.push(start..terms.len() as u32);
                    }
                    let program = GroupProgram::Blocks(first..blocks.len() as u32);
                    programs.push(program.clone());
                    level.other_groups.push((index, program));
                }
                None => {
                    let entry = emit_branches(
                        &group.formula,
                        BRANCH_TRUE,
                        BRANCH_FALSE,
                        &literal,
                        &mut branches,
                    );
                    programs.push(GroupProgram::Branches(entry));
                    level
                        .other_groups
                        .push((index, GroupProgram::Branches(entry)));
                }
            }
        }
        for level in &mut levels {
            level.conjunctions.finish();
        }
        Plan {
            predicates: compiler.predicates,
            groups,
            id: PlanId::next(),
            field_table,
            predicate_field,
            levels,
            evaluation_order,
            programs,
            member_bit,
            bit_count,
            branches,
            blocks,
            terms,
            record_fields: std::sync::OnceLock::new(),
        }
    }

    /// This plan's identity, as [`FieldRef::plan`] reports it.
    pub fn id(&self) -> PlanId {
        self.id
    }

    /// The number of groups.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Every field the groups test, each once, in first-use order: position `i` is the field
    /// that [`FieldRef::index`] `i` names.
    pub fn fields(&self) -> Vec<&str> {
        self.field_table.iter().map(|f| &*f.name).collect()
    }

    /// Converts a machine for this plan: the values of the fields it tests, by position, so
    /// that evaluating the [`Record`] skips every lookup by name.
    pub fn record<M: Machine + ?Sized>(&self, machine: &M) -> Record {
        let fields = self
            .record_fields
            .get_or_init(|| self.field_table.iter().map(|f| f.name.clone()).collect())
            .clone();
        let values = fields
            .iter()
            .map(|name| machine.attr(name).map(OwnedAttr::of))
            .collect();
        Record::new(self.id, fields, values)
    }

    /// The number of distinct predicates after sharing.
    pub fn predicate_count(&self) -> usize {
        self.predicates.len()
    }

    /// The ids of every group, in definition order.
    pub fn group_ids(&self) -> impl ExactSizeIterator<Item = GroupId> + '_ {
        (0..self.groups.len()).map(|index| GroupId(index as u32))
    }

    /// The name of a group.
    pub fn group_name(&self, id: GroupId) -> &str {
        self.groups.get(id.index()).map_or("", |g| g.name.as_str())
    }

    /// The description of a group.
    pub fn group_description(&self, id: GroupId) -> Option<&str> {
        self.groups.get(id.index())?.description.as_deref()
    }

    /// The group called `name`.
    pub fn group_id(&self, name: &str) -> Option<GroupId> {
        self.groups
            .iter()
            .position(|g| g.name == name)
            .map(|index| GroupId(index as u32))
    }

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
    /// use cohort::{GroupSet, Scratch, Timestamp};
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
        member_bits.resize(self.groups.len().div_ceil(64), 0);
        for level in &self.levels {
            self.evaluate_level(level, bits, member_bits);
            // Publish this level's memberships to the groups that reference them.
            for &(group, bit) in &level.publish {
                let member = member_bits
                    .get(group as usize / 64)
                    .is_some_and(|word| word >> (group % 64) & 1 == 1);
                if let Some(word) = bits.get_mut(bit as usize / 64) {
                    *word |= u64::from(member) << (bit % 64);
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
            let kills = conjunctions
                .kills
                .get(word.kills.start as usize..word.kills.end as usize)
                .unwrap_or_default();
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
            if let Some(word) = member_bits.get_mut(group as usize / 64) {
                *word |= u64::from(member) << (group % 64);
            }
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
        bits.resize(self.bit_count.div_ceil(64).max(4), 0);
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
        let value = FieldValue {
            attr,
            text,
            folded_text,
            parsed,
            now,
        };
        if let (Some(cache), Some(text)) = (cache_miss, text) {
            let mut pattern = vec![0u64; bits.len()];
            self.run_predicates(&field.cached, &value, buffer, &mut pattern);
            for (word, add) in bits.iter_mut().zip(&pattern) {
                *word |= add;
            }
            cache.insert(text, pattern);
        }
        self.run_predicates(others, &value, buffer, bits);
    }

    /// Sets the bits of the predicates in `ids` that hold on one field's value.
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
        let value = FieldValue {
            attr: Some(Attr::Text(text)),
            text: Some(text),
            folded_text,
            parsed: field.parses.then(|| Parsed::of(text)),
            now,
        };
        let mut pattern = vec![0u64; self.bit_count.div_ceil(64).max(4)];
        self.run_predicates(&field.cached, &value, buffer, &mut pattern);
        pattern
    }

    fn run_predicates(
        &self,
        ids: &[u32],
        value: &FieldValue<'_>,
        buffer: &mut String,
        bits: &mut [u64],
    ) {
        for &predicate_index in ids {
            let Some(predicate) = self.predicates.get(predicate_index as usize) else {
                continue;
            };
            let shortcut = value.attr.and_then(|attr| {
                let text = if predicate.fold {
                    value.folded_text
                } else {
                    value.text
                };
                predicate.kernel.try_run(attr, text)
            });
            let held = match shortcut {
                Some(held) => held,
                None => {
                    let mut ctx = Context {
                        now: value.now,
                        fold: predicate.fold,
                        buffer,
                        parsed: value.parsed,
                        folded: if predicate.fold {
                            value.folded_text
                        } else {
                            None
                        },
                    };
                    predicate.matcher.run(value.attr, &mut ctx) == Outcome::Held
                }
            };
            if let Some(word) = bits.get_mut(predicate_index as usize / 64) {
                *word |= u64::from(held) << (predicate_index % 64);
            }
        }
    }

    fn program_holds(&self, program: &GroupProgram, bits: &[u64]) -> bool {
        match program {
            GroupProgram::Pair([first, second]) => first.holds(bits) & second.holds(bits),
            GroupProgram::Blocks(range) => self.any_block_holds(range.clone(), bits),
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

    /// The position in [`Plan::fields`] of predicate `id`'s field.
    pub(crate) fn field_of(&self, id: PredicateId) -> Option<usize> {
        self.predicate_field.get(id.0 as usize).copied()
    }

    /// Whether predicate `id` depends on the evaluation time.
    pub(crate) fn reads_the_time(&self, id: PredicateId) -> bool {
        self.predicates
            .get(id.0 as usize)
            .is_some_and(|p| p.matcher.reads_the_time())
    }

    /// Whether one of the blocks in `range` has every term true.
    fn any_block_holds(&self, range: std::ops::Range<u32>, bits: &[u64]) -> bool {
        let blocks = self
            .blocks
            .get(range.start as usize..range.end as usize)
            .unwrap_or_default();
        blocks.iter().any(|block| {
            self.terms
                .get(block.start as usize..block.end as usize)
                .unwrap_or_default()
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
            let bit = bits
                .get(branch.predicate as usize / 64)
                .is_some_and(|word| word >> (branch.predicate % 64) & 1 == 1);
            at = if bit != branch.negated {
                branch.if_true
            } else {
                branch.if_false
            };
        }
    }

    pub(crate) fn outcome<M: Machine + ?Sized>(
        &self,
        id: PredicateId,
        machine: &M,
        now: crate::Timestamp,
        buffer: &mut String,
    ) -> Outcome {
        let Some(predicate) = self.predicates.get(id.0 as usize) else {
            return Outcome::Failed;
        };
        let mut ctx = Context {
            now: now.unix_millis(),
            fold: predicate.fold,
            buffer,
            parsed: None,
            folded: None,
        };
        predicate
            .matcher
            .run(machine.attr(&predicate.field), &mut ctx)
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
        self.bits
            .get(id.index() / 64)
            .is_some_and(|word| word >> (id.index() % 64) & 1 == 1)
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
        crate::columnar::set_bits(self.bits).map(|index| GroupId(index as u32))
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

/// One field's value on the machine being evaluated, read and prepared once.
/// The parts of a [`Scratch`] that reading one field writes.
struct FieldScratch<'s> {
    bits: &'s mut Vec<u64>,
    buffer: &'s mut String,
    folded: &'s mut String,
    text_caches: &'s mut Vec<TextCache>,
}

struct FieldValue<'a> {
    attr: Option<Attr<'a>>,
    text: Option<&'a str>,
    folded_text: Option<&'a str>,
    parsed: Option<Parsed>,
    now: i64,
}

/// Remembered predicate results by text value, for one field (see [`PlanField::cached`]):
/// low-cardinality text (OS names, dropdowns) is tested once per distinct value, not once
/// per machine. A cache that mostly misses (hostnames, serial numbers) turns itself off.
#[derive(Debug, Default)]
struct TextCache {
    /// Keyed by a hash seeded at random per cache: the texts come from endpoints.
    patterns: HashMap<Box<str>, Box<[u64]>, foldhash::fast::RandomState>,
    lookups: u32,
    misses: u32,
    disabled: bool,
}

/// Entries kept per field before the cache starts over.
const TEXT_CACHE_ENTRIES: usize = 4096;

impl TextCache {
    fn enabled(&self) -> bool {
        !self.disabled
    }

    fn get(&mut self, text: &str) -> Option<&[u64]> {
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

    fn insert(&mut self, text: &str, pattern: Vec<u64>) {
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

/// A field the plan reads, with the predicates that test it.
#[derive(Debug)]
struct PlanField {
    name: Arc<str>,
    /// Indices of the predicates on this field.
    predicates: Vec<u32>,
    /// The predicates that, on a number, hold exactly when it lies in an interval; and the
    /// field's other predicates.
    intervals: IntervalTable,
    not_intervals: Vec<u32>,
    /// The predicates whose result on text depends on the text alone (not on the time), so
    /// it can be remembered per distinct text ([`TextCache`]); and the others.
    cached: Vec<u32>,
    not_cached: Vec<u32>,
    /// Whether remembering is worth a hash lookup: several cached predicates, and more than
    /// a few cheap comparisons among them.
    worth_caching: bool,
    /// The cached predicates that hold on a list when they hold on one of its elements
    /// (bits by predicate index; empty when there are none): on a list of texts they are
    /// read from each element's remembered results, which is always worth it (each element
    /// would otherwise be tested by every predicate); and the field's other predicates.
    element_mask: Vec<u64>,
    not_element_cached: Vec<u32>,
    /// Whether some predicate compares its text without case (fold once for all of them).
    folds: bool,
    /// Whether several predicates read its text as a number or a date (parse once).
    parses: bool,
}

/// Interval tests on one number field, decided together: the finite interval ends, sorted,
/// cut the number line into segments (each end alone, and the open gaps between ends) on
/// which every test is constant; each segment has the predicate bits that hold on it. A
/// number costs a binary search and an OR of one pattern, however many tests there are.
#[derive(Debug, Default)]
struct IntervalTable {
    ends: Vec<f64>,
    /// `2 * ends.len() + 1` patterns of `words` words: segment `2i` is the gap below
    /// `ends[i]`, segment `2i + 1` is `ends[i]` itself.
    patterns: Vec<u64>,
    words: usize,
    /// For whole numbers from `first_integer` on: their segment, looked up directly (counts,
    /// percentages, gigabytes are mostly whole). Empty when the ends span too wide a range.
    integer_segments: Vec<u32>,
    first_integer: i64,
}

/// The widest range of whole numbers [`IntervalTable`] looks up directly.
const MAX_INTEGER_SEGMENTS: i64 = 4096;

impl IntervalTable {
    fn new(intervals: &[(u32, f64, f64)], words: usize) -> IntervalTable {
        let mut ends: Vec<f64> = intervals
            .iter()
            .flat_map(|&(_, low, high)| [low, high])
            .filter(|end| end.is_finite())
            .collect();
        ends.sort_by(f64::total_cmp);
        ends.dedup_by(|a, b| a == b);
        let segments = 2 * ends.len() + 1;
        let mut patterns = vec![0u64; segments * words];
        for segment in 0..segments {
            let index = segment / 2;
            // The segment as [from, to] when it is an end, (from, to) when it is a gap.
            let (from, to) = if segment % 2 == 1 {
                let end = ends.get(index).copied().unwrap_or(f64::NAN);
                (end, end)
            } else {
                let below = index.checked_sub(1).and_then(|i| ends.get(i)).copied();
                (
                    below.unwrap_or(f64::NEG_INFINITY),
                    ends.get(index).copied().unwrap_or(f64::INFINITY),
                )
            };
            for &(predicate, low, high) in intervals {
                if low <= from
                    && to <= high
                    && let Some(word) = patterns.get_mut(segment * words + predicate as usize / 64)
                {
                    *word |= 1 << (predicate % 64);
                }
            }
        }
        let mut table = IntervalTable {
            ends,
            patterns,
            words: if intervals.is_empty() { 0 } else { words },
            integer_segments: Vec::new(),
            first_integer: 0,
        };
        // Whole numbers from one below the lowest end to one above the highest: below and
        // above that, the segment is the first or the last.
        if let (Some(&low), Some(&high)) = (table.ends.first(), table.ends.last()) {
            let first = (low.floor() as i64).saturating_sub(1);
            let last = (high.ceil() as i64).saturating_add(1);
            if last
                .checked_sub(first)
                .is_some_and(|span| span < MAX_INTEGER_SEGMENTS)
            {
                table.first_integer = first;
                table.integer_segments = (first..=last)
                    .map(|k| table.segment_of(k as f64) as u32)
                    .collect();
            }
        }
        table
    }

    /// Sets the bits of the tests that hold on `n` (not NaN).
    #[inline]
    /// The segment `n` (not NaN) lies in.
    fn segment_of(&self, n: f64) -> usize {
        let index = self.ends.partition_point(|&end| end < n);
        if self.ends.get(index) == Some(&n) {
            2 * index + 1
        } else {
            2 * index
        }
    }

    fn or_into(&self, n: f64, bits: &mut [u64]) {
        if self.words == 0 {
            return;
        }
        let direct = (n.fract() == 0.0)
            .then(|| (n as i64).checked_sub(self.first_integer))
            .flatten()
            .and_then(|offset| usize::try_from(offset).ok())
            .and_then(|offset| self.integer_segments.get(offset));
        let segment = match direct {
            Some(&segment) => segment as usize,
            None => self.segment_of(n),
        };
        let start = segment * self.words;
        if let Some(pattern) = self.patterns.get(start..start + self.words) {
            for (word, add) in bits.iter_mut().zip(pattern) {
                *word |= add;
            }
        }
    }
}

/// How a group is decided over the predicate bits.
#[derive(Clone, Debug)]
enum GroupProgram {
    /// One block in two mask terms (only in [`Plan::programs`]; levels decide one-block
    /// groups together, see [`Conjunctions`]).
    Pair([MaskTerm; 2]),
    /// Blocks of criteria (the console's shape, and any formula that flattens to at most
    /// [`MAX_FLAT_BLOCKS`] of them): a range of [`Plan::blocks`], met when one block is.
    Blocks(std::ops::Range<u32>),
    /// Anything else: the entry of a branch program.
    Branches(u32),
}

/// The groups of one level (see [`Plan::levels`]).
#[derive(Debug, Default)]
struct Level {
    /// The groups that are one block of criteria (most groups), 64 at a time.
    conjunctions: Conjunctions,
    /// How every other group is decided over the bits.
    other_groups: Vec<(u32, GroupProgram)>,
    /// The groups of this level that others reference, with their member bit.
    publish: Vec<(u32, u32)>,
}

impl Formula {
    /// Calls `f` with every group this formula references.
    pub(crate) fn visit_members(&self, f: &mut impl FnMut(GroupId)) {
        match self {
            Formula::All(items) | Formula::Any(items) => {
                for item in items {
                    item.visit_members(f);
                }
            }
            Formula::Not(item) => item.visit_members(f),
            Formula::Criterion { .. } => {}
            Formula::Member { group, .. } => f(*group),
        }
    }

    /// A criterion or `member of` as a literal over the bits, looking through `not`.
    fn literal(&self, member_bit: &[Option<u32>]) -> Option<Literal> {
        match self {
            Formula::Criterion {
                predicate, negated, ..
            } => Some((predicate.0, *negated)),
            Formula::Member { group, negated, .. } => {
                Some((member_bit.get(group.index()).copied().flatten()?, *negated))
            }
            Formula::Not(item) => item
                .literal(member_bit)
                .map(|(bit, negated)| (bit, !negated)),
            _ => None,
        }
    }
}

/// The one-block groups of a level, decided 64 at a time: for each word of group bits, the
/// groups of the word (`base`), and for each predicate bit their criteria read, the groups
/// that bit kills when it is true (criteria negating it) and when it is false.
#[derive(Debug, Default)]
struct Conjunctions {
    words: Vec<ConjunctionWord>,
    kills: Vec<Kill>,
    /// While compiling: by group word, by bit, (kill if true, kill if false).
    building: std::collections::BTreeMap<u32, std::collections::BTreeMap<u32, (u64, u64)>>,
    bases: std::collections::BTreeMap<u32, u64>,
}

#[derive(Clone, Debug)]
struct ConjunctionWord {
    group_word: u32,
    base: u64,
    kills: std::ops::Range<u32>,
}

#[derive(Clone, Copy, Debug)]
struct Kill {
    bit: u32,
    if_true: u64,
    if_false: u64,
}

impl Conjunctions {
    fn add(&mut self, group: u32, literals: &[Literal]) {
        let word = group / 64;
        let mask = 1u64 << (group % 64);
        *self.bases.entry(word).or_insert(0) |= mask;
        let kills = self.building.entry(word).or_default();
        for &(bit, negated) in literals {
            let entry = kills.entry(bit).or_insert((0, 0));
            if negated {
                entry.0 |= mask;
            } else {
                entry.1 |= mask;
            }
        }
    }

    fn finish(&mut self) {
        for (word, base) in std::mem::take(&mut self.bases) {
            let start = self.kills.len() as u32;
            if let Some(kills) = self.building.get(&word) {
                self.kills
                    .extend(kills.iter().map(|(&bit, &(if_true, if_false))| Kill {
                        bit,
                        if_true,
                        if_false,
                    }));
            }
            self.words.push(ConjunctionWord {
                group_word: word,
                base,
                kills: start..self.kills.len() as u32,
            });
        }
        self.building.clear();
    }
}

/// Up to 64 criteria of one block, tested at once: the block's criteria on predicates
/// `64 * word ..` hold when `(bits[word] ^ flip) & mask == mask` (`flip` has the bits of
/// negated criteria).
#[derive(Clone, Copy, Debug)]
struct MaskTerm {
    word: u32,
    mask: u64,
    flip: u64,
}

impl MaskTerm {
    /// The term that always holds.
    const TRUE: MaskTerm = MaskTerm {
        word: 0,
        mask: 0,
        flip: 0,
    };

    #[inline]
    fn holds(&self, bits: &[u64]) -> bool {
        let word = bits.get(self.word as usize).copied().unwrap_or(0);
        (word ^ self.flip) & self.mask == self.mask
    }
}

/// A block's literals as exactly two mask terms, when they fit.
fn term_pair(literals: &[Literal]) -> Option<[MaskTerm; 2]> {
    match mask_terms(literals).as_slice() {
        [] => Some([MaskTerm::TRUE, MaskTerm::TRUE]),
        [one] => Some([*one, MaskTerm::TRUE]),
        [one, two] => Some([*one, *two]),
        _ => None,
    }
}

/// Past this many blocks a group keeps its branch program.
const MAX_FLAT_BLOCKS: usize = 16;

/// A criterion as a literal: its predicate, and whether it is negated.
type Literal = (u32, bool);

/// The formula as an `any` of `all` blocks of literals, when it has that shape (criteria,
/// `not` of a criterion, `all` of those, `any` of those) within [`MAX_FLAT_BLOCKS`] blocks.
/// Blocks that need a predicate both true and false can never hold and are dropped.
fn disjunctive_blocks(
    formula: &Formula,
    literal: &dyn Fn(&Formula) -> Option<Literal>,
) -> Option<Vec<Vec<Literal>>> {
    fn block(
        formula: &Formula,
        literal: &dyn Fn(&Formula) -> Option<Literal>,
        out: &mut Vec<Literal>,
    ) -> Option<()> {
        match formula {
            Formula::All(items) => items.iter().try_for_each(|item| block(item, literal, out)),
            other => {
                out.push(literal(other)?);
                Some(())
            }
        }
    }
    let mut blocks = Vec::new();
    match formula {
        Formula::Any(items) => {
            for item in items {
                let mut literals = Vec::new();
                block(item, literal, &mut literals)?;
                blocks.push(literals);
            }
        }
        other => {
            let mut literals = Vec::new();
            block(other, literal, &mut literals)?;
            blocks.push(literals);
        }
    }
    if blocks.len() > MAX_FLAT_BLOCKS {
        return None;
    }
    blocks.retain(|literals| {
        !literals
            .iter()
            .any(|&(p, negated)| literals.contains(&(p, !negated)))
    });
    Some(blocks)
}

/// A block's literals as one mask term per word of predicate bits.
fn mask_terms(literals: &[Literal]) -> Vec<MaskTerm> {
    let mut terms: Vec<MaskTerm> = Vec::new();
    for &(predicate, negated) in literals {
        let word = predicate / 64;
        let bit = 1u64 << (predicate % 64);
        let index = match terms.iter().position(|t| t.word == word) {
            Some(index) => index,
            None => {
                terms.push(MaskTerm {
                    word,
                    mask: 0,
                    flip: 0,
                });
                terms.len() - 1
            }
        };
        if let Some(term) = terms.get_mut(index) {
            term.mask |= bit;
            if negated {
                term.flip |= bit;
            }
        }
    }
    terms
}

/// One step of a group's branch program: test a predicate bit, go on to `if_true` or
/// `if_false` (another step, [`BRANCH_TRUE`] or [`BRANCH_FALSE`]).
#[derive(Clone, Copy, Debug)]
struct Branch {
    predicate: u32,
    negated: bool,
    if_true: u32,
    if_false: u32,
}

const BRANCH_TRUE: u32 = u32::MAX;
const BRANCH_FALSE: u32 = u32::MAX - 1;

/// Compiles `formula` into branches that go to `if_true` when it holds and to `if_false`
/// otherwise; returns the entry. Each criterion becomes one branch (no duplication): `all`
/// chains its items on success, `any` on failure, `not` swaps the targets.
fn emit_branches(
    formula: &Formula,
    if_true: u32,
    if_false: u32,
    literal: &dyn Fn(&Formula) -> Option<Literal>,
    out: &mut Vec<Branch>,
) -> u32 {
    match formula {
        Formula::All(items) => items.iter().rev().fold(if_true, |next, item| {
            emit_branches(item, next, if_false, literal, out)
        }),
        Formula::Any(items) => items.iter().rev().fold(if_false, |next, item| {
            emit_branches(item, if_true, next, literal, out)
        }),
        Formula::Not(item) => emit_branches(item, if_false, if_true, literal, out),
        criterion => {
            // A criterion or `member of` always has a bit; `if_false` covers the impossible.
            let Some((bit, negated)) = literal(criterion) else {
                return if_false;
            };
            out.push(Branch {
                predicate: bit,
                negated,
                if_true,
                if_false,
            });
            (out.len() - 1) as u32
        }
    }
}

/// A field as [`Machine::attr_at`] sees it: its name, and its position among the fields of
/// the plan that asks (so a machine that stores attributes by position can skip the lookup
/// by name, as [`Record`] does).
#[derive(Clone, Copy, Debug)]
pub struct FieldRef<'a> {
    name: &'a str,
    index: usize,
    plan: PlanId,
}

impl<'a> FieldRef<'a> {
    /// The field's name.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The field's position in [`Plan::fields`] of the plan that asks.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Which plan asks: positions are only meaningful for the plan they came from.
    pub fn plan(&self) -> PlanId {
        self.plan
    }
}

/// Identifies one compiled [`Plan`] (every compilation gets a new id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PlanId(u64);

impl PlanId {
    fn next() -> PlanId {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        PlanId(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

#[derive(Default)]
struct Compiler {
    predicates: Vec<CompiledPredicate>,
    shared: HashMap<String, PredicateId>,
    fields: HashMap<String, Arc<str>>,
}

impl Compiler {
    fn condition(&mut self, condition: &Condition) -> Formula {
        match condition {
            Condition::All(items) => {
                Formula::All(items.iter().map(|c| self.condition(c)).collect())
            }
            Condition::Any(items) => {
                Formula::Any(items.iter().map(|c| self.condition(c)).collect())
            }
            Condition::Not(item) => Formula::Not(Box::new(self.condition(item))),
            Condition::Member(member) => Formula::Member {
                group: GroupId(member.group as u32),
                negated: member.negated,
                label: member.label.clone(),
                text: member.text.clone(),
            },
            Condition::Predicate(predicate) => Formula::Criterion {
                predicate: self.predicate(predicate),
                negated: predicate.negated,
                label: predicate.label.clone(),
                text: predicate.text.clone(),
            },
        }
    }

    fn predicate(&mut self, predicate: &Predicate) -> PredicateId {
        let key = sharing_key(predicate);
        if let Some(id) = self.shared.get(&key) {
            return *id;
        }
        let field = self
            .fields
            .entry(predicate.field.clone())
            .or_insert_with(|| Arc::from(predicate.field.as_str()))
            .clone();
        let id = PredicateId(self.predicates.len() as u32);
        let matcher = Matcher::compile(&predicate.test);
        self.predicates.push(CompiledPredicate {
            field,
            kernel: Kernel::of(&matcher),
            matcher,
            fold: !predicate.case_sensitive,
        });
        self.shared.insert(key, id);
        id
    }
}

/// Two predicates with the same key test the same thing. Regexes enter by pattern (their
/// case-insensitivity follows `case_sensitive`, which is part of the key).
fn sharing_key(predicate: &Predicate) -> String {
    let test = match &predicate.test {
        Test::Matches(regexes) => {
            let patterns: Vec<&str> = regexes
                .iter()
                .map(cohort_check::ir::Regex::as_str)
                .collect();
            format!("Matches({patterns:?})")
        }
        other => format!("{other:?}"),
    };
    format!(
        "{:?}\u{0}{}\u{0}{test}",
        predicate.field, predicate.case_sensitive
    )
}

#[cfg(test)]
mod interval_tests {
    #![allow(clippy::unwrap_used)]

    use super::IntervalTable;

    /// The table answers what each interval says, for whole numbers (looked up directly),
    /// fractions, ends, numbers outside every end, and extremes.
    #[test]
    fn interval_tables_agree_with_the_intervals_they_hold() {
        let narrow = vec![
            (0u32, f64::NEG_INFINITY, 4.999_999_999_999_999),
            (1, 5.0, f64::INFINITY),
            (2, 8.0, 16.0),
            (3, -3.5, 2.25),
            (4, 10f64.next_up(), f64::INFINITY),
            (65, 100.0, 100.0),
        ];
        let mut wide = narrow.clone();
        wide.push((70, -1e300, 1e300));
        let mut numbers = vec![
            0.0,
            -0.0,
            4.0,
            5.0,
            4.5,
            7.0,
            8.0,
            16.0,
            16.5,
            17.0,
            -3.5,
            -4.0,
            2.25,
            2.0,
            10.0,
            11.0,
            100.0,
            99.0,
            101.0,
            -1e300,
            1e300,
            1e301,
            -1e301,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e18,
            -1e18,
            9.3e18,
            -9.3e18,
        ];
        numbers.extend((-10..120).map(f64::from));
        for (intervals, direct) in [(narrow, true), (wide, false)] {
            let table = IntervalTable::new(&intervals, 2);
            // Whole numbers are looked up directly when the ends span a narrow range.
            assert_eq!(!table.integer_segments.is_empty(), direct);
            for &n in &numbers {
                let mut bits = [0u64; 2];
                table.or_into(n, &mut bits);
                for &(bit, low, high) in &intervals {
                    let held = bits[bit as usize / 64] >> (bit % 64) & 1 == 1;
                    assert_eq!(held, low <= n && n <= high, "{n} in [{low}, {high}]");
                }
            }
        }
    }
}
