//! How the engine reads a machine: the [`Machine`] trait and borrowed attribute values.
//!
//! An RMM tool keeps machines in its own types. It implements [`Machine`] for them and the
//! engine reads each attribute through a borrowed [`Attr`], so nothing is copied into
//! cohort's types. Implementations are provided for maps of [`Value`], of `String`, and (with
//! the `serde_json` feature, on by default) of `serde_json::Value`.

use crate::plan::{FieldRef, PlanId};
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

/// One attribute value, borrowed from the machine.
#[derive(Clone, Copy)]
pub enum Attr<'a> {
    /// Present but null.
    Null,
    /// A flag (checkbox).
    Bool(bool),
    /// A number.
    Number(f64),
    /// Text (also dates and versions, which are read from text).
    Text(&'a str),
    /// Several values, such as installed software. A criterion holds when it holds for any
    /// element (`contains all of`: when every value is found in some element).
    List(&'a dyn AttrList),
    /// A value cohort cannot compare, such as a nested object: not blank, and no other test
    /// holds on it.
    Opaque,
}

/// How many lists deep an attribute value is looked into.
///
/// The attribute itself is at depth 0 and the elements of a list at depth `d` are at depth
/// `d + 1`; a list at depth `MAX_LIST_DEPTH` or deeper (a list inside 32 lists) is read as
/// [`Attr::Opaque`], as a nested object is: not blank, and no other test holds on it. So a
/// text inside up to 32 nested lists is an element of the attribute, and one inside 33 is
/// not. Every path (row, record, columnar, explain, the live tracker) reads values this way,
/// never recursing deeper, so an endpoint's hostile nesting cannot overflow the stack, and
/// the owned copies cohort keeps (records, dictionaries) are cut at this depth.
pub const MAX_LIST_DEPTH: usize = 32;

impl<'a> Attr<'a> {
    /// The value as read at `depth` lists deep: a list at [`MAX_LIST_DEPTH`] or deeper is
    /// [`Attr::Opaque`].
    #[inline]
    pub(crate) fn at_depth(self, depth: usize) -> Attr<'a> {
        match self {
            Attr::List(_) if depth >= MAX_LIST_DEPTH => Attr::Opaque,
            other => other,
        }
    }
}

impl std::fmt::Debug for Attr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        /// An attribute at a depth, for printing as the engine reads it.
        struct At<'a>(Attr<'a>, usize);
        impl std::fmt::Debug for At<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let At(attr, depth) = *self;
                match attr.at_depth(depth) {
                    Attr::Null => f.write_str("Null"),
                    Attr::Bool(b) => write!(f, "Bool({b})"),
                    Attr::Number(n) => write!(f, "Number({n})"),
                    Attr::Text(t) => write!(f, "Text({t:?})"),
                    Attr::List(list) => f
                        .debug_list()
                        .entries(list.iter().map(|item| At(item, depth + 1)))
                        .finish(),
                    Attr::Opaque => f.write_str("Opaque"),
                }
            }
        }
        At(*self, 0).fmt(f)
    }
}

/// A list attribute, read element by element.
pub trait AttrList {
    /// The number of elements.
    fn len(&self) -> usize;

    /// The element at `index`, `None` past the end.
    fn get(&self, index: usize) -> Option<Attr<'_>>;

    /// Whether the list is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl dyn AttrList + '_ {
    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = Attr<'_>> {
        (0..self.len()).filter_map(|index| self.get(index))
    }
}

/// A machine whose attributes the engine can read by field name.
///
/// Implement it for your own machine type to evaluate groups without copying:
///
/// ```
/// use cohort::{Attr, Machine};
///
/// struct Endpoint { os: String, free_disk_percent: f64 }
///
/// impl Machine for Endpoint {
///     fn attr(&self, field: &str) -> Option<Attr<'_>> {
///         match field {
///             "OS" => Some(Attr::Text(&self.os)),
///             "Free Disk %" => Some(Attr::Number(self.free_disk_percent)),
///             _ => None,
///         }
///     }
/// }
///
/// let groups = cohort::GroupSet::from_yaml_str(r#"
/// name: Low Disk
/// blocks: [[{field: Free Disk %, operator: less than, value: 10}]]
/// "#).unwrap();
/// let endpoint = Endpoint { os: "Windows 11".into(), free_disk_percent: 4.5 };
/// assert_eq!(groups.evaluate(&endpoint, cohort::Timestamp::UNIX_EPOCH).names().collect::<Vec<_>>(), ["Low Disk"]);
/// ```
pub trait Machine {
    /// The value of the attribute `field`, `None` when the machine does not have it.
    fn attr(&self, field: &str) -> Option<Attr<'_>>;

    /// The value of a field a plan asks for. The default looks it up by name with
    /// [`Machine::attr`]. A type that stores attributes by position can override it to skip
    /// that lookup: [`FieldRef::index`] is the field's position in [`Plan::fields`] of the
    /// plan named by [`FieldRef::plan`] (see [`Record`]). It must return what `attr` would.
    ///
    /// [`Plan::fields`]: crate::Plan::fields
    fn attr_at(&self, field: FieldRef<'_>) -> Option<Attr<'_>> {
        self.attr(field.name())
    }
}

impl<M: Machine + ?Sized> Machine for &M {
    fn attr(&self, field: &str) -> Option<Attr<'_>> {
        (**self).attr(field)
    }
    fn attr_at(&self, field: FieldRef<'_>) -> Option<Attr<'_>> {
        (**self).attr_at(field)
    }
}

impl<M: Machine + ?Sized> Machine for Box<M> {
    fn attr(&self, field: &str) -> Option<Attr<'_>> {
        (**self).attr(field)
    }
    fn attr_at(&self, field: FieldRef<'_>) -> Option<Attr<'_>> {
        (**self).attr_at(field)
    }
}

/// A machine converted for one plan: the values of the fields the plan tests, by position,
/// so evaluation reads them without looking names up. For embedders that evaluate the same
/// machines many times (convert once with [`Plan::record`], evaluate often); any other plan
/// can still read it by name.
///
/// ```
/// use cohort::{GroupSet, Timestamp};
/// use serde_json::json;
///
/// let groups = GroupSet::from_yaml_str("name: Low Disk\nwhere: '[Free Disk %] < 10'").unwrap();
/// let record = groups.plan().record(&json!({"Free Disk %": 4, "OS": "Windows 11"}));
/// assert_eq!(groups.evaluate(&record, Timestamp::UNIX_EPOCH).names().collect::<Vec<_>>(), ["Low Disk"]);
/// ```
///
/// [`Plan::record`]: crate::Plan::record
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    plan: PlanId,
    fields: std::sync::Arc<[std::sync::Arc<str>]>,
    values: Vec<Option<OwnedAttr>>,
}

impl Record {
    pub(crate) fn new(
        plan: PlanId,
        fields: std::sync::Arc<[std::sync::Arc<str>]>,
        values: Vec<Option<OwnedAttr>>,
    ) -> Record {
        Record {
            plan,
            fields,
            values,
        }
    }
}

impl Machine for Record {
    fn attr(&self, field: &str) -> Option<Attr<'_>> {
        let index = self.fields.iter().position(|f| &**f == field)?;
        self.values.get(index)?.as_ref().map(OwnedAttr::as_attr)
    }

    fn attr_at(&self, field: FieldRef<'_>) -> Option<Attr<'_>> {
        if field.plan() == self.plan {
            self.values
                .get(field.index())?
                .as_ref()
                .map(OwnedAttr::as_attr)
        } else {
            self.attr(field.name())
        }
    }
}

/// The engine's owned copy of an attribute value: what a [`Record`] keeps and what the
/// columnar store keeps of list elements. Unlike [`Value`] (the embedder's owned type,
/// read from JSON or YAML) it keeps [`Attr::Opaque`], and it is cut at [`MAX_LIST_DEPTH`],
/// so cloning, comparing and dropping it recurse no deeper.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum OwnedAttr {
    Null,
    Bool(bool),
    Number(f64),
    /// Shared, in the columnar store, by the lists of one dictionary that have this element.
    Text(std::sync::Arc<str>),
    List(Vec<OwnedAttr>),
    Opaque,
}

impl OwnedAttr {
    /// A copy of `attr`.
    pub(crate) fn of(attr: Attr<'_>) -> OwnedAttr {
        OwnedAttr::at(attr, 0)
    }

    /// A copy of `attr` read `depth` lists deep.
    pub(crate) fn at(attr: Attr<'_>, depth: usize) -> OwnedAttr {
        OwnedAttr::at_with(attr, depth, &mut |text| text.into())
    }

    /// A copy of `attr` read `depth` lists deep, its texts (at any depth) made by `text`:
    /// the columnar store shares one text between the lists that have it.
    pub(crate) fn at_with(
        attr: Attr<'_>,
        depth: usize,
        text: &mut dyn FnMut(&str) -> std::sync::Arc<str>,
    ) -> OwnedAttr {
        match attr.at_depth(depth) {
            Attr::Null => OwnedAttr::Null,
            Attr::Bool(b) => OwnedAttr::Bool(b),
            Attr::Number(n) => OwnedAttr::Number(n),
            Attr::Text(t) => OwnedAttr::Text(text(t)),
            Attr::List(list) => OwnedAttr::List(
                list.iter()
                    .map(|item| OwnedAttr::at_with(item, depth + 1, text))
                    .collect(),
            ),
            Attr::Opaque => OwnedAttr::Opaque,
        }
    }

    /// Whether the elements `items` (of a list at `depth`) are those of the list `attr`.
    pub(crate) fn list_is(items: &[OwnedAttr], attr: Attr<'_>, depth: usize) -> bool {
        match attr.at_depth(depth) {
            Attr::List(list) => {
                items.len() == list.len()
                    && items
                        .iter()
                        .zip(list.iter())
                        .all(|(item, element)| item.is_at(element, depth + 1))
            }
            _ => false,
        }
    }

    /// Whether the elements `items` (of a list at depth 0) are `elements`: [`OwnedAttr::list_is`]
    /// of the list of `elements`.
    pub(crate) fn elements_are(items: &[OwnedAttr], elements: &[Attr<'_>]) -> bool {
        items.len() == elements.len()
            && items
                .iter()
                .zip(elements)
                .all(|(item, &element)| item.is_at(element, 1))
    }

    fn is_at(&self, attr: Attr<'_>, depth: usize) -> bool {
        match (self, attr.at_depth(depth)) {
            (OwnedAttr::Null, Attr::Null) | (OwnedAttr::Opaque, Attr::Opaque) => true,
            (OwnedAttr::Bool(a), Attr::Bool(b)) => *a == b,
            (OwnedAttr::Number(a), Attr::Number(b)) => a.to_bits() == b.to_bits(),
            (OwnedAttr::Text(a), Attr::Text(b)) => **a == *b,
            (OwnedAttr::List(items), Attr::List(_)) => OwnedAttr::list_is(items, attr, depth),
            _ => false,
        }
    }

    /// Whether two stored values are one value (both are cut at the same depth, so this
    /// recurses no deeper).
    pub(crate) fn same(&self, other: &OwnedAttr) -> bool {
        match (self, other) {
            (OwnedAttr::Null, OwnedAttr::Null) | (OwnedAttr::Opaque, OwnedAttr::Opaque) => true,
            (OwnedAttr::Bool(a), OwnedAttr::Bool(b)) => a == b,
            (OwnedAttr::Number(a), OwnedAttr::Number(b)) => a.to_bits() == b.to_bits(),
            (OwnedAttr::Text(a), OwnedAttr::Text(b)) => a == b,
            (OwnedAttr::List(a), OwnedAttr::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
            }
            _ => false,
        }
    }

    pub(crate) fn as_attr(&self) -> Attr<'_> {
        match self {
            OwnedAttr::Null => Attr::Null,
            OwnedAttr::Bool(b) => Attr::Bool(*b),
            OwnedAttr::Number(n) => Attr::Number(*n),
            OwnedAttr::Text(t) => Attr::Text(t),
            OwnedAttr::List(items) => Attr::List(items),
            OwnedAttr::Opaque => Attr::Opaque,
        }
    }

    /// The text, for a text value.
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            OwnedAttr::Text(text) => Some(text),
            _ => None,
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        std::mem::size_of::<OwnedAttr>()
            + match self {
                // A shared text counted once in all: a share for each value holding it.
                OwnedAttr::Text(t) => t.len() / std::sync::Arc::strong_count(t).max(1),
                OwnedAttr::List(items) => items.iter().map(OwnedAttr::heap_bytes).sum(),
                _ => 0,
            }
    }
}

impl AttrList for Vec<OwnedAttr> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn get(&self, index: usize) -> Option<Attr<'_>> {
        self.as_slice().get(index).map(OwnedAttr::as_attr)
    }
}

/// An owned attribute value, for embedders without a machine type of their own and for
/// reading machines from JSON or YAML (`serde` untagged: `null`, `true`, `1.5`, `"text"`,
/// `[...]`).
///
/// Lists are read [`MAX_LIST_DEPTH`] deep. Like any recursive Rust value, a `Value` nested
/// much deeper (tens of thousands of levels) overflows the stack when it is cloned, compared,
/// printed or dropped by the embedder; values the tracker takes ([`MembershipTracker::update`])
/// are dropped without recursion.
///
/// [`MembershipTracker::update`]: crate::MembershipTracker::update
///
/// ```
/// use cohort::{Machine, Value};
/// use std::collections::HashMap;
///
/// let mut machine = HashMap::new();
/// machine.insert("OS".to_string(), Value::from("Windows 10 Pro"));
/// machine.insert("Installed Software".to_string(), Value::List(vec!["Chrome".into(), "7-Zip".into()]));
/// assert!(machine.attr("OS").is_some());
/// assert!(machine.attr("Serial").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Value {
    /// Null.
    Null,
    /// A flag.
    Bool(bool),
    /// A number.
    Number(f64),
    /// Text.
    Text(String),
    /// A list.
    List(Vec<Value>),
}

impl Value {
    /// Drops the value without recursion (dropping a list nested 100,000 deep the usual way
    /// overflows the stack): nested lists are taken apart one at a time.
    pub(crate) fn dispose(self) {
        if !matches!(self, Value::List(_)) {
            return;
        }
        let mut stack = vec![self];
        while let Some(value) = stack.pop() {
            if let Value::List(items) = value {
                stack.extend(items);
            }
        }
    }

    /// The borrowed view of this value.
    pub fn as_attr(&self) -> Attr<'_> {
        match self {
            Value::Null => Attr::Null,
            Value::Bool(b) => Attr::Bool(*b),
            Value::Number(n) => Attr::Number(*n),
            Value::Text(t) => Attr::Text(t),
            Value::List(items) => Attr::List(items),
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

impl From<f64> for Value {
    fn from(number: f64) -> Self {
        Value::Number(number)
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Self {
        Value::Bool(flag)
    }
}

impl AttrList for Vec<Value> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn get(&self, index: usize) -> Option<Attr<'_>> {
        self.as_slice().get(index).map(Value::as_attr)
    }
}

impl AttrList for Vec<String> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn get(&self, index: usize) -> Option<Attr<'_>> {
        self.as_slice().get(index).map(|text| Attr::Text(text))
    }
}

impl AttrList for Vec<&str> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn get(&self, index: usize) -> Option<Attr<'_>> {
        self.as_slice().get(index).map(|text| Attr::Text(text))
    }
}

impl<S: BuildHasher> Machine for HashMap<String, Value, S> {
    fn attr(&self, field: &str) -> Option<Attr<'_>> {
        self.get(field).map(Value::as_attr)
    }
}

impl Machine for BTreeMap<String, Value> {
    fn attr(&self, field: &str) -> Option<Attr<'_>> {
        self.get(field).map(Value::as_attr)
    }
}

impl<S: BuildHasher> Machine for HashMap<String, String, S> {
    fn attr(&self, field: &str) -> Option<Attr<'_>> {
        self.get(field).map(|text| Attr::Text(text))
    }
}

impl Machine for BTreeMap<String, String> {
    fn attr(&self, field: &str) -> Option<Attr<'_>> {
        self.get(field).map(|text| Attr::Text(text))
    }
}

#[cfg(feature = "serde_json")]
mod json {
    use super::{Attr, AttrList, Machine};
    use serde_json::{Map, Value};
    use std::collections::{BTreeMap, HashMap};
    use std::hash::BuildHasher;

    fn as_attr(value: &Value) -> Attr<'_> {
        match value {
            Value::Null => Attr::Null,
            Value::Bool(b) => Attr::Bool(*b),
            Value::Number(n) => n.as_f64().map_or(Attr::Opaque, Attr::Number),
            Value::String(s) => Attr::Text(s),
            Value::Array(items) => Attr::List(items),
            Value::Object(_) => Attr::Opaque,
        }
    }

    impl AttrList for Vec<Value> {
        fn len(&self) -> usize {
            Vec::len(self)
        }
        fn get(&self, index: usize) -> Option<Attr<'_>> {
            self.as_slice().get(index).map(as_attr)
        }
    }

    impl Machine for Map<String, Value> {
        fn attr(&self, field: &str) -> Option<Attr<'_>> {
            self.get(field).map(as_attr)
        }
    }

    /// A JSON object is a machine; any other JSON value has no attributes.
    impl Machine for Value {
        fn attr(&self, field: &str) -> Option<Attr<'_>> {
            self.as_object()?.get(field).map(as_attr)
        }
    }

    impl<S: BuildHasher> Machine for HashMap<String, Value, S> {
        fn attr(&self, field: &str) -> Option<Attr<'_>> {
            self.get(field).map(as_attr)
        }
    }

    impl Machine for BTreeMap<String, Value> {
        fn attr(&self, field: &str) -> Option<Attr<'_>> {
            self.get(field).map(as_attr)
        }
    }
}
