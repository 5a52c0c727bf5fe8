//! The YAML tree of a definitions file, lowered to syntax trees: every group, block and
//! criterion with its location, and every problem in the file reported (an unknown key, a
//! list where text belongs, a missing name...), not only the first.

use crate::error::LoadError;
use crate::yaml::{Kind, NodeId, Tree};
use cohort_syntax::{
    Criterion, Expr, GroupDef, Literal, Loc, NodePath, Op, SourceId, parse_condition,
    parse_criterion,
};

/// The keys of a group.
const GROUP_KEYS: &[&str] = &["name", "description", "match", "blocks", "where", "groups"];
/// The keys of a block written as a mapping.
const BLOCK_KEYS: &[&str] = &["match", "criteria"];
/// The keys of a criterion written as a mapping.
const CRITERION_KEYS: &[&str] = &["field", "operator", "values", "value", "case_sensitive"];

/// Reading a YAML tree, with somewhere to put every problem.
pub(crate) struct Reader<'a> {
    pub(crate) tree: &'a Tree,
    pub(crate) source: SourceId,
    pub(crate) errors: &'a mut Vec<LoadError>,
    /// What the loader may still read in all.
    pub(crate) budget: &'a mut Budget,
}

/// The bytes one loader may read in all ([`crate::Limits::max_total_bytes`]): every text
/// added, and every criterion or condition parsed from a YAML string (a string used through
/// several aliases counts each time, since each use is parsed into a tree of its own).
#[derive(Debug)]
pub(crate) struct Budget {
    pub(crate) remaining: u64,
    pub(crate) limit: u64,
    /// Whether the error for running out was reported (it is reported once).
    pub(crate) reported: bool,
}

impl Budget {
    /// Takes `bytes` from the budget; `false` (and the error, the first time) when they are
    /// not there.
    pub(crate) fn take(
        &mut self,
        bytes: usize,
        errors: &mut Vec<LoadError>,
        loc: Option<Loc>,
    ) -> bool {
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        if bytes <= self.remaining {
            self.remaining -= bytes;
            return true;
        }
        self.remaining = 0;
        if !self.reported {
            self.reported = true;
            errors.push(LoadError::TotalTooLarge {
                limit: self.limit,
                loc,
            });
        }
        false
    }
}

/// The entries of a mapping, by key, after unknown and repeated keys were reported.
pub(crate) struct Entries<'k> {
    found: Vec<(&'static str, NodeId, NodeId)>,
    path: &'k NodePath,
}

impl Entries<'_> {
    /// The value under `key`, with its path.
    pub(crate) fn get(&self, key: &str) -> Option<(NodeId, NodePath)> {
        self.found
            .iter()
            .find(|(name, _, _)| *name == key)
            .map(|(name, _, value)| (*value, self.path.key(name)))
    }

    /// The key node `key` itself, with its path.
    pub(crate) fn key(&self, key: &str) -> Option<(NodeId, NodePath)> {
        self.found
            .iter()
            .find(|(name, _, _)| *name == key)
            .map(|(name, key, _)| (*key, self.path.key_itself(name)))
    }

    /// Whether `key` is present.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.found.iter().any(|(name, _, _)| *name == key)
    }
}

impl<'a> Reader<'a> {
    /// The location of node `id` at `path`.
    pub(crate) fn loc(&self, id: NodeId, path: &NodePath) -> Loc {
        Loc::in_yaml(self.source, path.clone(), self.tree.node(id).span)
    }

    /// The entries of the mapping `id`, whose keys must be among `allowed`; unknown keys
    /// (with the nearest allowed one), repeated keys and keys that are not text are reported.
    /// `None` (reported) when `id` is not a mapping.
    pub(crate) fn entries<'k>(
        &mut self,
        id: NodeId,
        path: &'k NodePath,
        what: &'static str,
        allowed: &'static [&'static str],
        group: Option<&str>,
    ) -> Option<Entries<'k>> {
        self.entries_except(id, path, what, allowed, group, &[])
    }

    /// [`Reader::entries`], with keys in `except` left out silently (already reported).
    fn entries_except<'k>(
        &mut self,
        id: NodeId,
        path: &'k NodePath,
        what: &'static str,
        allowed: &'static [&'static str],
        group: Option<&str>,
        except: &[&str],
    ) -> Option<Entries<'k>> {
        let tree = self.tree;
        let Kind::Map(entries) = &tree.node(id).kind else {
            self.wrong_type(id, path, what, "a mapping", group);
            return None;
        };
        let mut found: Vec<(&'static str, NodeId, NodeId)> = Vec::with_capacity(entries.len());
        for &(key, value) in entries {
            let Some(text) = tree.node(key).as_scalar() else {
                self.wrong_type(key, path, "a key", "text", group);
                continue;
            };
            if except.contains(&text) {
                continue;
            }
            let Some(&name) = allowed.iter().find(|name| **name == text) else {
                self.errors.push(LoadError::UnknownKey {
                    loc: self.loc(key, &path.key_itself(text)),
                    key: text.to_owned(),
                    what,
                    allowed,
                    suggestion: cohort_syntax::nearest(text, allowed.iter().copied()),
                    group: group.map(str::to_owned),
                });
                continue;
            };
            if found.iter().any(|(seen, _, _)| *seen == name) {
                self.errors.push(LoadError::DuplicateKey {
                    loc: self.loc(key, &path.key_itself(name)),
                    key: name,
                    group: group.map(str::to_owned),
                });
                continue;
            }
            found.push((name, key, value));
        }
        Some(Entries { found, path })
    }

    /// Reports a missing key with `error`, unless a problem was reported since
    /// `errors_before`: an unknown key there is most likely the missing one misspelt
    /// (`operatr`), and one error says it. Always `None`, for the caller to return.
    fn missing<T>(&mut self, errors_before: usize, error: impl FnOnce() -> LoadError) -> Option<T> {
        if self.errors.len() == errors_before {
            self.errors.push(error());
        }
        None
    }

    /// Reports that the node `id` is not `expected`.
    pub(crate) fn wrong_type(
        &mut self,
        id: NodeId,
        path: &NodePath,
        what: &str,
        expected: &'static str,
        group: Option<&str>,
    ) {
        self.errors.push(LoadError::WrongType {
            loc: self.loc(id, path),
            what: what.to_owned(),
            expected,
            found: self.tree.node(id).describe(),
            group: group.map(str::to_owned),
        });
    }

    /// The text of the scalar `id`, `None` for a null; reported when it is a collection.
    pub(crate) fn text(
        &mut self,
        id: NodeId,
        path: &NodePath,
        what: &str,
        group: Option<&str>,
    ) -> Option<String> {
        let node = self.tree.node(id);
        if node.is_null() {
            return None;
        }
        match node.as_scalar() {
            Some(text) => Some(text.to_owned()),
            None => {
                self.wrong_type(id, path, what, "text", group);
                None
            }
        }
    }

    /// The text under `key` of `entries`, if present and not null.
    pub(crate) fn text_at(
        &mut self,
        entries: &Entries<'_>,
        key: &'static str,
        group: Option<&str>,
    ) -> Option<String> {
        let (id, path) = entries.get(key)?;
        self.text(id, &path, &format!("`{key}`"), group)
    }

    /// The items of the list `id` (a null is an empty list); reported when it is not a list.
    pub(crate) fn items(
        &mut self,
        id: NodeId,
        path: &NodePath,
        what: &str,
        expected: &'static str,
        group: Option<&str>,
    ) -> Option<&'a [NodeId]> {
        let tree = self.tree;
        match &tree.node(id).kind {
            Kind::Seq(items) => Some(items),
            _ if tree.node(id).is_null() => Some(&[]),
            _ => {
                self.wrong_type(id, path, what, expected, group);
                None
            }
        }
    }
}

/// Lowers every document of `tree` to groups.
pub(crate) fn groups(reader: &mut Reader<'_>) -> Vec<GroupDef> {
    let mut groups = Vec::new();
    for &root in &reader.tree.documents {
        if reader.tree.node(root).is_null() {
            continue;
        }
        groups.extend(reader.document(root));
    }
    groups
}

/// Lowers a tree read from one item of a group list (a list of that one item) as the group
/// at `path` (see [`crate::recover`]).
pub(crate) fn list_item(reader: &mut Reader<'_>, path: &NodePath) -> Option<GroupDef> {
    let root = *reader.tree.documents.first()?;
    let Kind::Seq(items) = &reader.tree.node(root).kind else {
        return None;
    };
    let [item] = items.as_slice() else {
        return None;
    };
    reader.group_item(*item, path)
}

impl Reader<'_> {
    fn document(&mut self, root: NodeId) -> Vec<GroupDef> {
        let path = NodePath::root();
        match &self.tree.node(root).kind {
            Kind::Map(_) => {}
            Kind::Seq(items) => return self.group_list(items, &path),
            Kind::Scalar { .. } => {
                self.wrong_type(
                    root,
                    &path,
                    "a definitions file",
                    "a group (a mapping with `name`, and `where` or `blocks`), a list of groups, or a mapping with the list under `groups`",
                    None,
                );
                return Vec::new();
            }
        }
        if self.peek_entries(root) == Some(None) {
            return self.group(root, &path).into_iter().collect();
        }
        let Some(entries) = self.entries(root, &path, "a group", GROUP_KEYS, None) else {
            return Vec::new();
        };
        let Some((list, list_path)) = entries.get("groups") else {
            return Vec::new();
        };
        if ["name", "blocks", "where", "match", "description"]
            .iter()
            .any(|key| entries.has(key))
        {
            let (key, key_path) = entries.key("groups").unwrap_or((root, path.clone()));
            let loc = self.loc(key, &key_path);
            self.errors.push(LoadError::MixedDocument { loc });
            return Vec::new();
        }
        let Some(items) = self.items(list, &list_path, "`groups`", "a list of groups", None) else {
            return Vec::new();
        };
        self.group_list(items, &list_path)
    }

    /// The groups of a list (under `groups:`, or a document that is a list), at `list_path`.
    fn group_list(&mut self, items: &[NodeId], list_path: &NodePath) -> Vec<GroupDef> {
        items
            .iter()
            .enumerate()
            .filter_map(|(index, &group)| self.group_item(group, &list_path.index(index)))
            .collect()
    }

    /// One item of a group list, at `group_path`.
    fn group_item(&mut self, group: NodeId, group_path: &NodePath) -> Option<GroupDef> {
        if let Some(entries) = self.peek_entries(group)
            && let Some(inner) = entries
        {
            let loc = self.loc(inner, &group_path.key_itself("groups"));
            let name = self.peek_name(group);
            self.errors
                .push(LoadError::NestedGroups { loc, group: name });
            return None;
        }
        self.group(group, group_path)
    }

    /// For a mapping: `Some(Some(key))` when it has a `groups` key, `Some(None)` when not.
    fn peek_entries(&self, id: NodeId) -> Option<Option<NodeId>> {
        let Kind::Map(entries) = &self.tree.node(id).kind else {
            return None;
        };
        Some(
            entries
                .iter()
                .find(|(key, _)| self.tree.node(*key).as_scalar() == Some("groups"))
                .map(|(key, _)| *key),
        )
    }

    /// The group's name, read without reporting anything (for messages about the group).
    fn peek_name(&self, id: NodeId) -> Option<String> {
        let Kind::Map(entries) = &self.tree.node(id).kind else {
            return None;
        };
        entries
            .iter()
            .find(|(key, _)| self.tree.node(*key).as_scalar() == Some("name"))
            .and_then(|(_, value)| self.tree.node(*value).as_scalar())
            .filter(|name| !name.trim().is_empty())
            .map(str::to_owned)
    }

    fn group(&mut self, id: NodeId, path: &NodePath) -> Option<GroupDef> {
        let errors_before = self.errors.len();
        let name = self.peek_name(id);
        let misplaced = self.misplaced_keys(id, path, name.as_deref());
        let except: Vec<&str> = misplaced.iter().map(|(key, _)| *key).collect();
        let entries =
            self.entries_except(id, path, "a group", GROUP_KEYS, name.as_deref(), &except)?;
        let group = self.group_body(id, path, &entries, name, errors_before);
        // A criterion whose `operator` was found in the group is not also missing one.
        let tail = self.errors.split_off(errors_before);
        self.errors.extend(tail.into_iter().filter(|error| {
            !matches!(error, LoadError::MissingOperator { criterion, .. }
                if misplaced.iter().any(|(key, above)| *key == "operator" && above.as_deref() == Some(criterion.as_str())))
        }));
        group
    }

    /// Reports every key of a criterion found in the group mapping `id` (with the criterion
    /// just above it, which it most likely belongs to), and returns them with that criterion.
    fn misplaced_keys(
        &mut self,
        id: NodeId,
        path: &NodePath,
        group: Option<&str>,
    ) -> Vec<(&'static str, Option<String>)> {
        let tree = self.tree;
        let Kind::Map(entries) = &tree.node(id).kind else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for &(key, _) in entries {
            let Some(&name) = tree
                .node(key)
                .as_scalar()
                .and_then(|text| CRITERION_KEYS.iter().find(|k| **k == text))
            else {
                continue;
            };
            if found.iter().any(|(seen, _)| *seen == name) {
                continue;
            }
            let above = self.criterion_before(entries, tree.node(key).span.start);
            self.errors.push(LoadError::MisplacedKey {
                loc: self.loc(key, &path.key_itself(name)),
                key: name.to_owned(),
                group: group.map(str::to_owned),
                criterion: above.clone(),
            });
            found.push((name, above));
        }
        found
    }

    /// The label of the last criterion mapping of the group's `blocks` that starts before
    /// byte `offset` (`block 1, criterion 2 (`OS`)`).
    fn criterion_before(&self, group: &[(NodeId, NodeId)], offset: usize) -> Option<String> {
        let tree = self.tree;
        let (_, blocks) = group
            .iter()
            .find(|(key, _)| tree.node(*key).as_scalar() == Some("blocks"))?;
        let Kind::Seq(blocks) = &tree.node(*blocks).kind else {
            return None;
        };
        let mut last = None;
        for (b, &block) in blocks.iter().enumerate() {
            let criteria: &[NodeId] = match &tree.node(block).kind {
                Kind::Seq(items) => items,
                Kind::Map(entries) => entries
                    .iter()
                    .find(|(key, _)| tree.node(*key).as_scalar() == Some("criteria"))
                    .and_then(|(_, list)| match &tree.node(*list).kind {
                        Kind::Seq(items) => Some(&items[..]),
                        _ => None,
                    })
                    .unwrap_or_default(),
                Kind::Scalar { .. } => &[],
            };
            for (c, &criterion) in criteria.iter().enumerate() {
                let node = tree.node(criterion);
                if node.span.start >= offset {
                    return last;
                }
                if let Kind::Map(entries) = &node.kind {
                    let field = entries
                        .iter()
                        .find(|(key, _)| tree.node(*key).as_scalar() == Some("field"))
                        .and_then(|(_, value)| tree.node(*value).as_scalar())
                        .unwrap_or_default();
                    last = Some(format!("block {}, criterion {} (`{field}`)", b + 1, c + 1));
                }
            }
        }
        last
    }

    fn group_body(
        &mut self,
        id: NodeId,
        path: &NodePath,
        entries: &Entries<'_>,
        name: Option<String>,
        errors_before: usize,
    ) -> Option<GroupDef> {
        let group = name.as_deref();
        let name_text = self.text_at(entries, "name", group);
        let description = self.text_at(entries, "description", group);
        let join = self.text_at(entries, "match", group);
        let Some(name) = name_text.filter(|name| !name.trim().is_empty()) else {
            let loc = self.loc(id, path);
            self.errors.push(LoadError::MissingName { loc });
            return None;
        };
        if let Some((where_id, where_path)) = entries.get("where") {
            if entries.has("blocks") || entries.has("match") {
                let (key, key_path) = entries.key("where")?;
                let loc = self.loc(key, &key_path);
                self.errors
                    .push(LoadError::WhereWithBlocks { loc, group: name });
                return None;
            }
            let text = self.text(where_id, &where_path, "`where`", Some(&name))?;
            let at = self.loc(where_id, &where_path);
            let condition = self.parse_text(&text, &at, &name, None, parse_condition)?;
            return (self.errors.len() == errors_before).then(|| GroupDef {
                name,
                description,
                condition,
                loc: self.loc(id, path),
            });
        }
        let group_join = self.join(join.as_deref(), entries, &name);
        let mut items = Vec::new();
        let blocks = match entries.get("blocks") {
            Some((blocks, blocks_path)) => self
                .items(
                    blocks,
                    &blocks_path,
                    "`blocks`",
                    "a list of blocks",
                    Some(&name),
                )
                .map(|list| (list, blocks, blocks_path)),
            None => None,
        };
        match &blocks {
            Some((list, _, _)) if !list.is_empty() => {}
            Some(_) | None if self.errors.len() == errors_before => {
                let loc = self.loc(id, path);
                self.errors.push(LoadError::NoBlocks {
                    loc,
                    group: name.clone(),
                });
            }
            _ => {}
        }
        let blocks_loc = blocks
            .as_ref()
            .map_or_else(|| self.loc(id, path), |(_, id, path)| self.loc(*id, path));
        if let Some((list, _, blocks_path)) = blocks {
            for (index, &block) in list.iter().enumerate() {
                items.extend(self.block(block, &blocks_path.index(index), index + 1, &name));
            }
        }
        if self.errors.len() > errors_before {
            return None;
        }
        Some(GroupDef {
            condition: group_join.build(items, blocks_loc),
            name,
            description,
            loc: self.loc(id, path),
        })
    }

    fn join(&mut self, value: Option<&str>, entries: &Entries<'_>, group: &str) -> Join {
        match value.map(|v| v.trim().to_lowercase()).as_deref() {
            None | Some("any" | "or") => Join::Any,
            Some("all" | "and") => Join::All,
            Some(_) => {
                if let Some((id, path)) = entries.get("match") {
                    let loc = self.loc(id, &path);
                    self.errors.push(LoadError::InvalidMatch {
                        loc,
                        group: Some(group.to_owned()),
                        value: value.unwrap_or_default().to_owned(),
                    });
                }
                Join::Any
            }
        }
    }

    fn block(&mut self, id: NodeId, path: &NodePath, number: usize, group: &str) -> Option<Expr> {
        let errors_before = self.errors.len();
        let (join, criteria, criteria_path) = match &self.tree.node(id).kind {
            Kind::Seq(items) => (Join::All, &items[..], path.clone()),
            Kind::Map(map) => {
                let is_key = |keys: &[&str], key: &NodeId| {
                    self.tree
                        .node(*key)
                        .as_scalar()
                        .is_some_and(|text| keys.contains(&text))
                };
                if map.iter().any(|(key, _)| is_key(CRITERION_KEYS, key))
                    && !map.iter().any(|(key, _)| is_key(BLOCK_KEYS, key))
                {
                    let loc = self.loc(id, path);
                    self.errors.push(LoadError::BlockIsCriterion {
                        loc,
                        group: group.to_owned(),
                        block: number,
                    });
                    return None;
                }
                let entries = self.entries(id, path, "a block", BLOCK_KEYS, Some(group))?;
                let join = match self.text_at(&entries, "match", Some(group)) {
                    Some(value) => self.join(Some(&value), &entries, group),
                    None => Join::All,
                };
                let Some((list, list_path)) = entries.get("criteria") else {
                    let loc = self.loc(id, path);
                    return self.missing(errors_before, || LoadError::EmptyBlock {
                        loc,
                        group: group.to_owned(),
                        block: number,
                    });
                };
                let items = self.items(
                    list,
                    &list_path,
                    "`criteria`",
                    "a list of criteria",
                    Some(group),
                )?;
                (join, items, list_path)
            }
            Kind::Scalar { .. } => {
                self.wrong_type(
                    id,
                    path,
                    &format!("block {number}"),
                    "a list of criteria, or a mapping with `match` and `criteria`",
                    Some(group),
                );
                return None;
            }
        };
        if criteria.is_empty() {
            let loc = self.loc(id, path);
            self.errors.push(LoadError::EmptyBlock {
                loc,
                group: group.to_owned(),
                block: number,
            });
            return None;
        }
        let items = criteria
            .iter()
            .enumerate()
            .filter_map(|(index, &criterion)| {
                let label = format!("block {number}, criterion {}", index + 1);
                self.criterion(criterion, &criteria_path.index(index), group, label)
            })
            .collect();
        Some(join.build(items, self.loc(id, path)))
    }

    fn criterion(
        &mut self,
        id: NodeId,
        path: &NodePath,
        group: &str,
        label: String,
    ) -> Option<Expr> {
        let tree = self.tree;
        match &tree.node(id).kind {
            Kind::Scalar { text, .. } => {
                let at = self.loc(id, path);
                return self.parse_text(text, &at, group, Some(label), |text| {
                    parse_criterion(text).map(Expr::Criterion)
                });
            }
            Kind::Seq(_) => {
                self.wrong_type(
                    id,
                    path,
                    &label,
                    "a criterion: a mapping with `field`, `operator` and `values`, or one line of text",
                    Some(group),
                );
                return None;
            }
            Kind::Map(_) => {}
        }
        let errors_before = self.errors.len();
        let entries = self.entries(id, path, "a criterion", CRITERION_KEYS, Some(group))?;
        let field = self
            .text_at(&entries, "field", Some(group))
            .unwrap_or_default();
        let label = format!("{label} (`{field}`)");
        let Some((op_id, op_path)) = entries.get("operator") else {
            let loc = self.loc(id, path);
            return self.missing(errors_before, || LoadError::MissingOperator {
                loc,
                group: group.to_owned(),
                criterion: label,
            });
        };
        let phrase = self
            .text(op_id, &op_path, "`operator`", Some(group))
            .unwrap_or_default();
        let op_loc = self.loc(op_id, &op_path);
        let op = Op::from_phrase(&phrase);
        if op.is_none() {
            self.errors.push(LoadError::UnknownOperator {
                loc: op_loc.clone(),
                group: group.to_owned(),
                criterion: label.clone(),
                suggestion: Op::suggest(&phrase),
                phrase,
            });
        }
        let case_sensitive = match entries.get("case_sensitive") {
            None => false,
            Some((flag, flag_path)) => match tree.node(flag).as_scalar() {
                Some("true" | "True" | "TRUE") => true,
                Some("false" | "False" | "FALSE") => false,
                _ => {
                    self.wrong_type(
                        flag,
                        &flag_path,
                        "`case_sensitive`",
                        "`true` or `false`",
                        Some(group),
                    );
                    false
                }
            },
        };
        let values = match (entries.get("values"), entries.get("value")) {
            (Some(_), Some(_)) => {
                let (key, key_path) = entries.key("value")?;
                let loc = self.loc(key, &key_path);
                self.errors.push(LoadError::ValueAndValues {
                    loc,
                    group: group.to_owned(),
                    criterion: label,
                });
                return None;
            }
            (Some((values, values_path)), None) => {
                if matches!(tree.node(values).kind, Kind::Scalar { .. })
                    && !tree.node(values).is_null()
                {
                    self.literal(values, &values_path, group)
                        .into_iter()
                        .collect()
                } else {
                    let items = self.items(
                        values,
                        &values_path,
                        "`values`",
                        "a value or a list of values",
                        Some(group),
                    )?;
                    items
                        .iter()
                        .enumerate()
                        .filter_map(|(index, &item)| {
                            self.literal(item, &values_path.index(index), group)
                        })
                        .collect()
                }
            }
            (None, Some((value, value_path))) => {
                if tree.node(value).is_null() {
                    Vec::new()
                } else {
                    self.literal(value, &value_path, group)
                        .into_iter()
                        .collect()
                }
            }
            (None, None) => Vec::new(),
        };
        if self.errors.len() > errors_before {
            return None;
        }
        Some(Expr::Criterion(Criterion {
            field,
            op: op?,
            values,
            case_sensitive,
            loc: self.loc(id, path),
            op_loc,
        }))
    }

    /// One value: the exact text of a scalar (a plain `10.10` stays `10.10`).
    fn literal(&mut self, id: NodeId, path: &NodePath, group: &str) -> Option<Literal> {
        match &self.tree.node(id).kind {
            Kind::Scalar { text, .. } => Some(Literal {
                text: text.clone(),
                loc: self.loc(id, path),
            }),
            _ => {
                self.wrong_type(
                    id,
                    path,
                    "a value",
                    "text (a number, a date, a word...)",
                    Some(group),
                );
                None
            }
        }
    }

    /// A criterion or condition written as text in the string scalar at `at`.
    fn parse_text(
        &mut self,
        text: &str,
        at: &Loc,
        group: &str,
        criterion: Option<String>,
        parse: impl FnOnce(&str) -> Result<Expr, cohort_syntax::ParseError>,
    ) -> Option<Expr> {
        if !self.budget.take(text.len(), self.errors, Some(at.clone())) {
            return None;
        }
        match parse(text) {
            Ok(mut expr) => {
                place(&mut expr, at);
                Some(expr)
            }
            Err(error) => {
                self.errors.push(LoadError::Syntax {
                    loc: Loc::at(error.span).placed_in(at),
                    group: group.to_owned(),
                    criterion,
                    message: error.message,
                    help: error.help,
                });
                None
            }
        }
    }
}

/// Puts every node of a condition parsed from the string at `at` there.
pub(crate) fn place(expr: &mut Expr, at: &Loc) {
    let put = |loc: &mut Loc| *loc = loc.placed_in(at);
    match expr {
        Expr::All { items, loc } | Expr::Any { items, loc } => {
            put(loc);
            for item in items {
                place(item, at);
            }
        }
        Expr::Not { item, loc } => {
            put(loc);
            place(item, at);
        }
        Expr::Criterion(criterion) => {
            put(&mut criterion.loc);
            put(&mut criterion.op_loc);
            for value in &mut criterion.values {
                put(&mut value.loc);
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Join {
    Any,
    All,
}

impl Join {
    fn build(self, items: Vec<Expr>, loc: Loc) -> Expr {
        match self {
            Join::Any => Expr::Any { items, loc },
            Join::All => Expr::All { items, loc },
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{LoadError, Loaded, Loader, Position};
    use cohort_syntax::{Expr, Op, Operator};

    fn load(text: &str) -> Loaded {
        let mut loader = Loader::new();
        loader.add_str("test.yaml", text);
        loader.finish()
    }

    /// The texts of every value of the first group, in order.
    fn value_texts(loaded: &Loaded) -> Vec<&str> {
        loaded.groups[0]
            .condition
            .criteria()
            .flat_map(|c| c.values.iter().map(|v| v.text.as_str()))
            .collect()
    }

    #[track_caller]
    fn position_of(loaded: &Loaded, error: &LoadError) -> (usize, usize) {
        let position = error
            .position()
            .or_else(|| loaded.sources.position(error.loc()?))
            .expect("error has a position");
        (position.line, position.column)
    }

    #[test]
    fn reads_the_seed_group() {
        let loaded = load(
            "name: BitLocker Key Missing\n\
             description: Group of machines where BitLocker Key was not found.\n\
             blocks:\n  - - field: BitLocker Key Backup Status\n      operator: Contains any of\n      values: [Not Available]\n",
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let group = &loaded.groups[0];
        assert_eq!(group.name, "BitLocker Key Missing");
        let Expr::Any { items, .. } = &group.condition else {
            panic!("blocks are ORed");
        };
        let Expr::All { items, .. } = &items[0] else {
            panic!("a plain block is ANDed");
        };
        let Expr::Criterion(criterion) = &items[0] else {
            panic!("criterion");
        };
        assert_eq!(criterion.op, Op::positive(Operator::ContainsAnyOf));
        assert_eq!(criterion.values[0].text, "Not Available");
        assert!(!criterion.case_sensitive);
    }

    #[test]
    fn reads_group_lists_block_maps_and_joins() {
        let loaded = load(
            "groups:\n\
             - name: A\n  match: all\n  blocks:\n  - match: any\n    criteria:\n    - {field: OS, operator: is, value: Windows}\n    - {field: OS, operator: is, value: Linux}\n\
             - name: B\n  blocks:\n  - - {field: Tags, operator: is blank}\n",
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.groups.len(), 2);
        let Expr::All { items, .. } = &loaded.groups[0].condition else {
            panic!("match: all");
        };
        assert!(matches!(&items[0], Expr::Any { items, .. } if items.len() == 2));
    }

    #[test]
    fn values_keep_their_exact_text() {
        let loaded = load(
            "name: V\nblocks:\n- - {field: Agent Version, operator: '>', value: 10.10}\n  - {field: Agent Version, operator: '<', values: [10.20, 'x y', true, 7]}\n",
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let texts = value_texts(&loaded);
        assert_eq!(texts, ["10.10", "10.20", "x y", "true", "7"]);
    }

    #[test]
    fn unknown_key_points_at_the_key() {
        let loaded = load("name: G\nblocks:\n  - - field: OS\n      operatr: is\n");
        let [error] = loaded.errors.as_slice() else {
            panic!("{:?}", loaded.errors);
        };
        assert_eq!(error.to_string(), "unknown key `operatr` in a criterion");
        assert_eq!(error.group(), Some("G"));
        assert_eq!(position_of(&loaded, error), (4, 7));
        assert_eq!(
            error.help().as_deref(),
            Some(
                "did you mean `operator`? a criterion has `field`, `operator`, `values`, `value`, `case_sensitive`"
            )
        );
    }

    #[test]
    fn every_unknown_operator_is_reported_with_its_position_and_a_suggestion() {
        let loaded = load(
            "groups:\n- name: A\n  blocks:\n  - - {field: OS, operator: contans any of, value: x}\n- name: B\n  blocks:\n  - - {field: OS, operator: frobs, value: x}\n",
        );
        assert_eq!(loaded.errors.len(), 2, "{:?}", loaded.errors);
        let first = &loaded.errors[0];
        assert_eq!(first.to_string(), "unknown operator `contans any of`");
        assert_eq!(first.group(), Some("A"));
        assert_eq!(first.criterion(), Some("block 1, criterion 1 (`OS`)"));
        assert_eq!(
            first.help().as_deref(),
            Some("did you mean `contains any of`?")
        );
        assert_eq!(position_of(&loaded, first), (4, 29));
        assert_eq!(position_of(&loaded, &loaded.errors[1]), (7, 29));
        assert!(loaded.groups.is_empty());
    }

    #[test]
    fn structural_mistakes_are_errors() {
        let cases = [
            (
                "blocks:\n- - {field: a, operator: is, value: b}\n",
                "group has no `name`",
            ),
            ("name: G\n", "group has no blocks"),
            ("name: G\nblocks:\n- []\n", "block 1 has no criteria"),
            (
                "name: G\nmatch: sometimes\nblocks:\n- - {field: a, operator: is, value: b}\n",
                "invalid `match` value `sometimes`",
            ),
            (
                "name: G\nblocks:\n- - {field: a, operator: is, value: b, values: [c]}\n",
                "both `value` and `values`",
            ),
            ("name: G\ngroups: []\n", "either one group"),
            ("groups:\n- name: G\n  groups: []\n", "cannot hold `groups`"),
            (
                "name: G\nblocks:\n- - {field: [a], operator: is}\n",
                "`field` must be text, found a list",
            ),
            ("name: G\nblocks: [\n", "invalid YAML"),
            (
                "name: G\nblocks:\n- - {field: a, value: b}\n",
                "criterion has no `operator`",
            ),
            (
                "name: G\nblocks:\n- - {field: a, operator: is, value: b, case_sensitive: maybe}\n",
                "`case_sensitive` must be `true` or `false`",
            ),
            (
                "name: G\nname: H\nblocks:\n- - {field: a, operator: is, value: b}\n",
                "key `name` is given twice",
            ),
            ("just text\n", "a definitions file must be a group"),
            ("- name: G\n", "group has no blocks"),
        ];
        for (text, expected) in cases {
            let loaded = load(text);
            assert_eq!(loaded.errors.len(), 1, "{text}: {:?}", loaded.errors);
            let error = &loaded.errors[0];
            assert!(error.to_string().contains(expected), "{text}: {error}");
            let position = error
                .position()
                .or_else(|| loaded.sources.position(error.loc()?));
            assert!(position.is_some(), "{text}: {error} has no position");
        }
    }

    #[test]
    fn blank_documents_hold_no_groups() {
        for text in ["", "\n\n", "# only a comment\n---\n"] {
            let loaded = load(text);
            assert!(
                loaded.errors.is_empty() && loaded.groups.is_empty(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn hostile_yaml_is_an_error_not_a_hang() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for level in 0..9 {
            let previous = if level == 0 {
                "a".to_owned()
            } else {
                format!("l{level}")
            };
            bomb.push_str(&format!("l{}: &l{} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n", level + 1, level + 1));
        }
        bomb.push_str("name: *l9\nblocks: []\n");
        let loaded = load(&bomb);
        assert_eq!(loaded.errors.len(), 1);
        assert!(
            loaded.errors[0]
                .to_string()
                .contains("aliases in this file stand for more than")
        );

        // A 1 MiB string expanded 9,999 times is refused before anything is copied.
        let mut big = format!("a: &a '{}'\nlist:\n", "x".repeat(1 << 20));
        for _ in 0..9_999 {
            big.push_str("- *a\n");
        }
        let loaded = load(&big);
        assert_eq!(loaded.errors.len(), 1);
        assert!(loaded.errors[0].to_string().contains("16777216 bytes"));

        for deep in [
            format!(
                "name: G\nblocks: {}{}\n",
                "[".repeat(1_000),
                "]".repeat(1_000)
            ),
            format!(
                "name: G\nblocks: []\nextra: {}{}\n",
                "{a: ".repeat(1_000),
                "}".repeat(1_000)
            ),
        ] {
            let loaded = load(&deep);
            assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
            assert!(
                loaded.errors[0].to_string().contains("nested"),
                "{}",
                loaded.errors[0]
            );
        }
        // 80,000 levels are refused within the first few hundred, without reading the rest.
        let deep = format!("name: G\nblocks: {}\n", "[".repeat(80_000));
        let loaded = load(&deep);
        let (line, column) = position_of(&loaded, &loaded.errors[0]);
        assert!(line == 2 && column < 300, "{line}:{column}");
    }

    #[test]
    fn every_structural_problem_of_a_file_is_reported_with_a_hint() {
        let loaded = load(
            "groups:\n- name: A\n  blocks:\n  - - field: OS\n      operator: is\n      vaule: Windows\n- name: B\n  blocks:\n  - - field: OS\n      value: Linux\n- name: C\n  blocs: []\n",
        );
        let found: Vec<(String, Option<&str>, (usize, usize))> = loaded
            .errors
            .iter()
            .map(|error| {
                (
                    error.to_string(),
                    error.group(),
                    position_of(&loaded, error),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "unknown key `vaule` in a criterion".to_owned(),
                    Some("A"),
                    (6, 7)
                ),
                ("criterion has no `operator`".to_owned(), Some("B"), (9, 7)),
                (
                    "unknown key `blocs` in a group".to_owned(),
                    Some("C"),
                    (12, 3)
                ),
            ]
        );
        assert!(
            loaded.errors[0]
                .help()
                .unwrap()
                .starts_with("did you mean `value`?")
        );
        assert!(
            loaded.errors[2]
                .help()
                .unwrap()
                .starts_with("did you mean `blocks`?")
        );
        assert!(loaded.groups.is_empty());
    }

    /// Every error of `loaded` as (message, group, line, column).
    fn found(loaded: &Loaded) -> Vec<(String, Option<&str>, (usize, usize))> {
        loaded
            .errors
            .iter()
            .map(|error| (error.to_string(), error.group(), position_of(loaded, error)))
            .collect()
    }

    #[test]
    fn yaml_syntax_errors_do_not_hide_the_other_groups() {
        let loaded = load(
            "groups:\n  - name: Typo\n    blocks:\n      - - field: OS\n          operator: contains\n          vaule: Windows\n  - name: Tabbed\n    where: OS contains x\n\t    description: tab\n  - name: Indented\n    blocks:\n      - - field: OS\n        operator: contains\n  - name: Colon\n    where: OS contains Windows: Server\n  - name: Good\n    where: OS contains Linux\n",
        );
        assert_eq!(
            found(&loaded),
            [
                (
                    "unknown key `vaule` in a criterion".to_owned(),
                    Some("Typo"),
                    (6, 11)
                ),
                (
                    "invalid YAML: a tab in the indentation of line 9".to_owned(),
                    Some("Tabbed"),
                    (9, 1)
                ),
                (
                    "invalid YAML: `operator:` at column 9 is not in line with the lines above it"
                        .to_owned(),
                    Some("Indented"),
                    (13, 9)
                ),
                (
                    "invalid YAML: `: ` inside a value that is not quoted".to_owned(),
                    Some("Colon"),
                    (15, 31)
                ),
            ]
        );
        let helps: Vec<String> = loaded.errors.iter().filter_map(LoadError::help).collect();
        assert!(
            helps[0].starts_with("did you mean `value`?"),
            "{}",
            helps[0]
        );
        assert_eq!(helps[1], "YAML indents with spaces, not tabs");
        assert_eq!(
            helps[2],
            "to continue the mapping of `field` (line 12), start this line at column 11, under `field`; a new list item starts with `- `"
        );
        assert_eq!(
            helps[3],
            "quote the value: `where: 'OS contains Windows: Server'`"
        );
        let names: Vec<&str> = loaded.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["Good"]);
        // The group read after an error keeps its true location.
        let good = loaded.sources.position(&loaded.groups[0].loc).unwrap();
        assert_eq!(good.line, 16);
    }

    #[test]
    fn a_group_that_cannot_be_cut_out_still_gives_its_error() {
        // Another key beside `groups`: the document is read as one piece, and its error is
        // the YAML reader's, once.
        let loaded =
            load("version: 1\ngroups:\n- name: A\n  where: a: b\n- name: B\n  where: OS = b\n");
        assert_eq!(
            found(&loaded),
            [(
                "invalid YAML: `: ` inside a value that is not quoted".to_owned(),
                None,
                (4, 11)
            )]
        );
        assert!(loaded.groups.is_empty());
        // An alias to another group's anchor, after an error elsewhere, says why it fails.
        let loaded = load(
            "- name: A\n  where: &w OS = a\n- name: B\n  where: *w\n- name: C\n  where: a: b\n",
        );
        let messages: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 2, "{messages:?} {:?}", loaded.errors);
        assert!(
            loaded.errors[0]
                .help()
                .unwrap()
                .contains("an alias can only name an anchor of its own group")
        );
        assert_eq!(loaded.groups.len(), 1);
    }

    #[test]
    fn yaml_errors_stop_at_the_limit_with_one_error_saying_so() {
        let mut text = String::from("groups:\n");
        for i in 0..150 {
            text.push_str(&format!("- name: G{i}\n  where: a: b\n"));
        }
        let loaded = load(&text);
        assert_eq!(loaded.errors.len(), 101);
        assert_eq!(
            loaded.errors[100].to_string(),
            "reading stopped after 100 YAML errors in this file"
        );
        assert_eq!(loaded.errors[99].group(), Some("G99"));
    }

    #[test]
    fn documents_may_be_groups_lists_or_group_lists_with_true_lines() {
        let loaded = load(
            "name: A\nwhere: OS is a\n---\n- name: B\n  blocks: [[{field: OS, operator: frobs, value: b}]]\n- name: C\n  where: OS is c\n---\ngroups:\n- name: D\n  blocks: [[{field: OS, operator: frobs, value: d}]]\n",
        );
        assert_eq!(
            found(&loaded),
            [
                ("unknown operator `frobs`".to_owned(), Some("B"), (5, 35)),
                ("unknown operator `frobs`".to_owned(), Some("D"), (11, 35)),
            ]
        );
        let names: Vec<&str> = loaded.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["A", "C"]);
        // A YAML error in one document leaves the others read, lines right in each.
        let loaded =
            load("name: A\nwhere: OS is a\n---\nname: B\nwhere: x: y\n---\nname: C\nwhere: [x]\n");
        assert_eq!(
            found(&loaded),
            [
                (
                    "invalid YAML: `: ` inside a value that is not quoted".to_owned(),
                    Some("B"),
                    (5, 9)
                ),
                (
                    "`where` must be text, found a list".to_owned(),
                    Some("C"),
                    (8, 8)
                ),
            ]
        );
        assert_eq!(loaded.groups.len(), 1);
    }

    #[test]
    fn imported_documents_joined_by_the_cli_load_back() {
        let markdown = |name: &str, value: &str| {
            format!(
                "---\ntitle: '{name}'\n---\n\n## Group Criteria\n\n| Block | Criteria Name | Operator | Value(s) |\n|---|---|---|---|\n| 1 | OS | Contains any of | `{value}` |\n"
            )
        };
        let mut joined = String::new();
        for (index, (name, value)) in [("First", "Windows"), ("Second", "Linux")]
            .iter()
            .enumerate()
        {
            let group = crate::import_markdown(&markdown(name, value)).unwrap();
            if index > 0 {
                joined.push_str("---\n");
            }
            joined.push_str(&crate::to_yaml(&[group], true).unwrap());
        }
        let loaded = load(&joined);
        assert!(loaded.errors.is_empty(), "{joined}\n{:?}", loaded.errors);
        let names: Vec<&str> = loaded.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["First", "Second"]);
        let second = loaded.sources.position(&loaded.groups[1].loc).unwrap();
        assert_eq!(joined.lines().nth(second.line - 1), Some("name: Second"));
    }

    #[test]
    fn keys_in_the_wrong_mapping_say_where_they_belong() {
        let loaded = load(
            "groups:\n  - name: A\n    blocks:\n    - - field: OS\n    operator: contains\n    value: x\n  - name: B\n    blocks:\n      - field: OS\n        operator: contains\n        value: x\n",
        );
        assert_eq!(
            found(&loaded),
            [
                (
                    "`operator` is a key of a criterion, but its indentation puts it in the group"
                        .to_owned(),
                    Some("A"),
                    (5, 5)
                ),
                (
                    "`value` is a key of a criterion, but its indentation puts it in the group"
                        .to_owned(),
                    Some("A"),
                    (6, 5)
                ),
                (
                    "block 1 is a single criterion, not a list of criteria".to_owned(),
                    Some("B"),
                    (9, 9)
                ),
            ]
        );
        assert_eq!(
            loaded.errors[0].help().as_deref(),
            Some(
                "indent `operator` like the other keys of the criterion above it (block 1, criterion 1 (`OS`)): keys of one mapping start in the same column"
            )
        );
        assert!(
            loaded.errors[2]
                .help()
                .unwrap()
                .starts_with("a block is a list of criteria: start the criterion with `- - `")
        );
    }

    #[test]
    fn messages_never_name_internal_types() {
        let cases = [
            "groups: 5\n",
            "groups:\n- 5\n",
            "- [a]\n",
            "name: [x]\nblocks: {a: b}\n",
            "name: G\nblocks:\n- 5\n",
            "name: G\nblocks:\n- - [x]\n",
            "name: G\nblocks:\n- - {field: OS, operator: is, values: {a: b}}\n",
            "name: G\nwhere: [x]\n",
            "name: G\nblocks: [[{field: OS, operator: is, value: [x]}]]\n",
            "? [a]\n: b\n",
            "name: G\nblocks: [\n",
            "name: G\n\tblocks: x\n",
            "x: 'a\n",
        ];
        for text in cases {
            let loaded = load(text);
            assert!(!loaded.errors.is_empty(), "{text}");
            for error in &loaded.errors {
                let said = format!("{error} {}", error.help().unwrap_or_default());
                for internal in [
                    "struct",
                    "Raw",
                    "enum",
                    "serde",
                    "invalid type",
                    "Node",
                    "Kind",
                    "Seq",
                    "Map",
                ] {
                    assert!(!said.contains(internal), "{text:?}: {said}");
                }
            }
        }
    }

    #[test]
    fn a_single_scalar_under_values_keeps_its_text() {
        let loaded = load(
            "name: V\nblocks:\n- - {field: Agent Version, operator: '>', values: 10.10}\n  - {field: Code, operator: is, values: 0x1F}\n",
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let texts = value_texts(&loaded);
        assert_eq!(texts, ["10.10", "0x1F"]);
    }

    #[test]
    fn byte_order_marks_and_several_documents_are_read() {
        let loaded = load(
            "\u{FEFF}name: A\nblocks: [[OS is Windows]]\n---\ngroups:\n- name: B\n  blocks: [[OS is Linux]]\n---\n# nothing\n",
        );
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let names: Vec<&str> = loaded.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["A", "B"]);
        let with_bom = load("\u{FEFF}name: A\nblocks: [[OS frobs x]]\n");
        let without = load("name: A\nblocks: [[OS frobs x]]\n");
        assert_eq!(
            position_of(&with_bom, &with_bom.errors[0]),
            position_of(&without, &without.errors[0])
        );
        let first_line = load("\u{FEFF}name: [A]\nblocks: [[OS is x]]\n");
        assert_eq!(position_of(&first_line, &first_line.errors[0]), (1, 7));
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_are_refused_not_read() {
        let dir = std::env::temp_dir().join(format!("cohort-load-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("groups.yaml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        let mut loader = Loader::new();
        loader.add_path(std::path::Path::new("/dev/zero"));
        if made.is_ok_and(|status| status.success()) {
            loader.add_path(&fifo);
            loader.add_path(&dir);
        }
        let loaded = loader.finish();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!loaded.errors.is_empty());
        for error in &loaded.errors {
            assert!(matches!(error, LoadError::NotAFile { .. }), "{error}");
        }
    }

    #[test]
    fn files_that_are_not_utf8_or_too_large_are_errors() {
        let dir = std::env::temp_dir().join(format!("cohort-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let latin1 = dir.join("latin1.yaml");
        std::fs::write(&latin1, b"name: caf\xe9\n").unwrap();
        let mut loader = Loader::with_limits(crate::Limits {
            max_file_bytes: 64,
            ..crate::Limits::default()
        });
        loader.add_path(&latin1);
        let big = dir.join("big.yaml");
        std::fs::write(&big, "#".repeat(100)).unwrap();
        loader.add_path(&big);
        loader.add_path(&dir.join("missing.yaml"));
        let loaded = loader.finish();
        std::fs::remove_dir_all(&dir).unwrap();
        let messages: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages[0].contains("not valid UTF-8"));
        assert_eq!(
            loaded.errors[0].position(),
            Some(Position {
                line: 1,
                column: 10
            })
        );
        assert!(messages[1].contains("over the limit of 64 bytes"));
        assert!(!messages[1].contains("100"));
        assert!(messages[2].starts_with("cannot read"));
    }

    #[test]
    fn conditions_repeated_through_aliases_count_against_the_total() {
        // A condition used by 15 groups through an alias, in each of three texts: within each
        // text's alias budget, but each use is parsed into a tree of its own (about 150 bytes
        // of memory a byte), so every use counts against the loader's total.
        let mut loader = Loader::with_limits(crate::Limits {
            max_total_bytes: 1_000_000,
            ..crate::Limits::default()
        });
        let condition = vec!["f = 1"; 3_000].join(" or ");
        for file in 0..3 {
            let mut text = format!("groups:\n- name: F{file}G0\n  where: &w '{condition}'\n");
            for i in 1..15 {
                text.push_str(&format!("- name: F{file}G{i}\n  where: *w\n"));
            }
            loader.add_str(&format!("{file}.yaml"), &text);
        }
        let loaded = loader.finish();
        let [error] = loaded.errors.as_slice() else {
            panic!("{:?}", loaded.errors);
        };
        assert!(
            error
                .to_string()
                .contains("exceed the limit of 1000000 bytes in all"),
            "{error}"
        );
        assert_eq!(loaded.sources.name(error.loc().unwrap()), Some("2.yaml"));
        // The first two texts are read whole; the third stops where the budget ran out.
        assert!(
            (2 * 15..3 * 15).contains(&loaded.groups.len()),
            "{}",
            loaded.groups.len()
        );
    }

    #[test]
    fn files_past_the_total_are_refused_by_name() {
        let mut loader = Loader::with_limits(crate::Limits {
            max_total_bytes: 100,
            ..crate::Limits::default()
        });
        let text = "name: G\nblocks: [[{field: OS, operator: is, value: x}]]\n";
        loader.add_str("a.yaml", text);
        loader.add_str("b.yaml", text);
        let loaded = loader.finish();
        let [error] = loaded.errors.as_slice() else {
            panic!("{:?}", loaded.errors);
        };
        assert_eq!(loaded.sources.name(error.loc().unwrap()), Some("b.yaml"));
        assert_eq!(loaded.groups.len(), 1);
    }
}
