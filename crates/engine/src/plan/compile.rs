//! Compiling checked groups into a [`Plan`]: predicates shared between groups, fields
//! interned, groups as level programs.

use super::*;
use crate::bits;

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
        // The fields in the order predicates first name them: `FieldIndex` is a position here.
        let mut field_table: Vec<PlanField> = std::mem::take(&mut compiler.field_names)
            .into_iter()
            .map(|name| PlanField {
                name,
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
            })
            .collect();
        for (index, predicate) in compiler.predicates.iter().enumerate() {
            let field = &mut field_table[predicate.field.index()];
            let index = index as u32;
            field.predicates.push(index);
            if predicate.kernel.number_interval().is_none() {
                field.not_intervals.push(index);
            }
            if predicate.matcher.reads_the_time() {
                field.not_cached.push(index);
            } else {
                field.cached.push(index);
            }
            field.folds |= predicate.fold;
        }
        let words = bits::words_for(compiler.predicates.len());
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
            // Remembering results per text pays unless every predicate is a few byte
            // comparisons: fewer than 8 in all (a cache lookup costs about that).
            let cheap: Vec<usize> = field
                .cached
                .iter()
                .filter_map(|&p| compiler.predicates[p as usize].kernel.comparisons())
                .collect();
            field.worth_caching = field.cached.len() >= 2
                && (cheap.len() < field.cached.len() || cheap.iter().sum::<usize>() >= 8);
            // On a list of texts, the cached predicates that hold when some element holds
            // are read from each element's remembered results.
            let mut element_mask = vec![0u64; words];
            for &p in &field.cached {
                let any_element = compiler
                    .predicates
                    .get(p as usize)
                    .is_some_and(|predicate| predicate.matcher.holds_on_any_element());
                bits::set_if(&mut element_mask, p as usize, any_element);
            }
            if element_mask.iter().any(|&word| word != 0) {
                field.not_element_cached = field
                    .predicates
                    .iter()
                    .copied()
                    .filter(|&p| !bits::is_set(&element_mask, p as usize))
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
        let mut pair_blocks = Vec::new();
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
                    let pairs: Option<Vec<[MaskTerm; 2]>> = literal_blocks
                        .iter()
                        .map(|block| term_pair(block))
                        .collect();
                    let program = match pairs {
                        Some(pairs) => {
                            let first = pair_blocks.len() as u32;
                            pair_blocks.extend(pairs);
                            GroupProgram::PairBlocks(first..pair_blocks.len() as u32)
                        }
                        None => {
                            let first = blocks.len() as u32;
                            for block in literal_blocks {
                                let start = terms.len() as u32;
                                terms.extend(mask_terms(&block));
                                blocks.push(start..terms.len() as u32);
                            }
                            GroupProgram::Blocks(first..blocks.len() as u32)
                        }
                    };
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
            levels,
            evaluation_order,
            programs,
            member_bit,
            bit_count,
            branches,
            blocks,
            pair_blocks,
            terms,
            record_fields: std::sync::OnceLock::new(),
        }
    }
}

#[derive(Default)]
pub(super) struct Compiler {
    pub(super) predicates: Vec<CompiledPredicate>,
    pub(super) shared: HashMap<String, PredicateId>,
    /// Field positions by name (a search per predicate made compiling quadratic in the
    /// number of distinct fields: 100,000 fields took 98 s), and the names by position.
    pub(super) fields: HashMap<String, FieldIndex>,
    pub(super) field_names: Vec<Arc<str>>,
}

impl Compiler {
    pub(super) fn condition(&mut self, condition: &Condition) -> Formula {
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

    pub(super) fn predicate(&mut self, predicate: &Predicate) -> PredicateId {
        let key = sharing_key(predicate);
        if let Some(id) = self.shared.get(&key) {
            return *id;
        }
        let field = match self.fields.get(&predicate.field) {
            Some(&field) => field,
            None => {
                let field = FieldIndex(self.field_names.len() as u32);
                self.field_names.push(Arc::from(predicate.field.as_str()));
                self.fields.insert(predicate.field.clone(), field);
                field
            }
        };
        let id = PredicateId(self.predicates.len() as u32);
        let matcher = Matcher::compile(&predicate.test);
        // A criterion on which case has no bearing tests the text as it is.
        let fold = !predicate.case_sensitive && matcher.reads_case();
        self.predicates.push(CompiledPredicate {
            field,
            kernel: Kernel::of(&matcher),
            matcher,
            fold,
        });
        self.shared.insert(key, id);
        id
    }
}

/// Two predicates with the same key test the same thing. Regexes enter by pattern (their
/// case-insensitivity follows `case_sensitive`, which is part of the key).
pub(super) fn sharing_key(predicate: &Predicate) -> String {
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
