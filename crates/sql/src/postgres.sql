-- cohort's functions for PostgreSQL, in a schema of their own (`cohort`). Each is a port of
-- the engine's reading of values (cohort_check::literal) and its case folding
-- (str::to_lowercase), checked against it by the differential tests. Values are `jsonb`:
-- a string is text, a number a 64-bit float, a boolean the text `true`/`false`, null missing,
-- an array a list, an object a value no test holds on. Placeholders in double braces are
-- filled in from Rust (the white space and case tables of the Rust standard library).

CREATE SCHEMA IF NOT EXISTS cohort;

-- Rust's str::trim: Unicode White_Space at both ends.
CREATE OR REPLACE FUNCTION cohort.trim(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT btrim(t, {{WHITE_SPACE}}) $$;

-- Characters that matter to the final-sigma rule of str::to_lowercase: 'I' case-ignorable,
-- 'C' cased (and not case-ignorable). Any other character is neither.
DROP TABLE IF EXISTS cohort.case_class;
CREATE TABLE cohort.case_class (ch text PRIMARY KEY, class "char" NOT NULL);
{{CASE_CLASS_ROWS}}

CREATE OR REPLACE FUNCTION cohort.fold_plain(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT {{FOLD_PLAIN}} $$;

-- str::to_lowercase of text that is not all ASCII.
CREATE OR REPLACE FUNCTION cohort.fold_unicode(t text) RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    chars text[];
    result text := '';
    n int;
    j int;
    cls "char";
    before bool;
    after bool;
BEGIN
    IF strpos(t, 'Σ') = 0 THEN
        RETURN cohort.fold_plain(t);
    END IF;
    chars := regexp_split_to_array(t, '');
    n := coalesce(array_length(chars, 1), 0);
    FOR i IN 1..n LOOP
        IF chars[i] = 'Σ' THEN
            before := false;
            j := i - 1;
            WHILE j >= 1 LOOP
                SELECT c.class INTO cls FROM cohort.case_class AS c WHERE c.ch = chars[j];
                IF cls IS DISTINCT FROM 'I' THEN
                    before := cls IS NOT DISTINCT FROM 'C';
                    EXIT;
                END IF;
                j := j - 1;
            END LOOP;
            after := false;
            j := i + 1;
            WHILE j <= n LOOP
                SELECT c.class INTO cls FROM cohort.case_class AS c WHERE c.ch = chars[j];
                IF cls IS DISTINCT FROM 'I' THEN
                    after := cls IS NOT DISTINCT FROM 'C';
                    EXIT;
                END IF;
                j := j + 1;
            END LOOP;
            result := result || CASE WHEN before AND NOT after THEN 'ς' ELSE 'σ' END;
        ELSE
            result := result || cohort.fold_plain(chars[i]);
        END IF;
    END LOOP;
    RETURN result;
END $$;

-- A float from a plain decimal the server may refuse (out of its range): NULL when Rust
-- reads infinity, 0 when it reads an underflow.
CREATE OR REPLACE FUNCTION cohort.float_at_the_edge(t text, big bool) RETURNS float8
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN t::float8;
EXCEPTION WHEN numeric_value_out_of_range THEN
    RETURN CASE WHEN big THEN NULL ELSE 0 END;
END $$;

-- The float a decimal 0.D x 10^n reads as, near the ends of the range too.
CREATE OR REPLACE FUNCTION cohort.float_of(t text, n int) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN n >= 308 OR n <= -306 THEN cohort.float_at_the_edge(t, n > 0) ELSE t::float8 END
$$;

-- An integer power of a whole number, exactly.
CREATE OR REPLACE FUNCTION cohort.ipow(base numeric, e int) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    result numeric := 1;
BEGIN
    WHILE e > 0 LOOP
        IF e % 2 = 1 THEN
            result := result * base;
        END IF;
        base := base * base;
        e := e / 2;
    END LOOP;
    RETURN result;
END $$;

-- str::to_lowercase: ASCII text by `lower` in the C collation (ASCII letters only), the rest
-- by the tables. Not STRICT, so that the planner inlines it (NULL gives NULL).
CREATE OR REPLACE FUNCTION cohort.fold(t text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN octet_length(t) = char_length(t) THEN lower(t COLLATE "C") ELSE cohort.fold_unicode(t) END
$$;

-- write_number: the shortest decimal that reads back as the float (the closest to its exact
-- value among those, halfway rounded up, as Rust's shortest formatting chooses), with an
-- exponent from 1e21 up and below 1e-6, as JavaScript writes numbers but without `+`. The
-- digits are found from the float's exact value (its bits), not the server's output.
CREATE OR REPLACE FUNCTION cohort.number_text(x float8) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    bits bigint;
    biased int;
    mantissa numeric;
    shift int;
    exact text;
    len int;
    n int;
    sign text;
    lo numeric;
    hi numeric;
    rest text;
    half text;
    lo_ok bool;
    hi_ok bool;
    chosen numeric;
    digits text;
    k int;
    body text;
BEGIN
    IF x = 0 THEN
        RETURN '0';
    END IF;
    bits := ('x' || encode(float8send(x), 'hex'))::bit(64)::bigint;
    sign := CASE WHEN bits < 0 THEN '-' ELSE '' END;
    biased := ((bits >> 52) & 2047)::int;
    mantissa := (bits & 4503599627370495)::numeric;
    IF biased = 0 THEN
        shift := -1074;
    ELSE
        mantissa := mantissa + 4503599627370496;
        shift := biased - 1075;
    END IF;
    -- The exact value is EXACT x 10^-scale, EXACT a whole number.
    IF shift >= 0 THEN
        exact := (mantissa * cohort.ipow(2, shift))::text;
        len := length(exact);
        n := len;
    ELSE
        exact := (mantissa * cohort.ipow(5, -shift))::text;
        len := length(exact);
        n := len + shift;
    END IF;
    -- The value is 0.EXACT x 10^n.
    FOR p IN 1..17 LOOP
        lo := left(exact, p)::numeric;
        rest := substr(exact, p + 1);
        IF rest !~ '[1-9]' THEN
            chosen := lo;
            EXIT;
        END IF;
        hi := lo + 1;
        lo_ok := cohort.float_of(sign || '0.' || lo::text || 'e' || n::text, n) = x;
        hi_ok := cohort.float_of(sign || hi::text || 'e' || (n - p)::text, n) = x;
        IF lo_ok AND hi_ok THEN
            half := rpad('5', length(rest), '0');
            chosen := CASE WHEN rest COLLATE "C" < half COLLATE "C" THEN lo ELSE hi END;
            EXIT;
        ELSIF lo_ok THEN
            chosen := lo;
            EXIT;
        ELSIF hi_ok THEN
            chosen := hi;
            EXIT;
        END IF;
    END LOOP;
    IF chosen IS NULL THEN
        RAISE EXCEPTION 'cohort.number_text: no 17-digit decimal reads back as %', x;
    END IF;
    -- CHOSEN has p digits, or p + 1 when rounding up carried (999 -> 1000).
    digits := chosen::text;
    n := n + length(digits) - length(lo::text);
    digits := rtrim(digits, '0');
    k := length(digits);
    IF n >= -5 AND n <= 21 THEN
        IF n >= k THEN
            body := digits || repeat('0', n - k);
        ELSIF n > 0 THEN
            body := left(digits, n) || '.' || substr(digits, n + 1);
        ELSE
            body := '0.' || repeat('0', -n) || digits;
        END IF;
    ELSE
        body := left(digits, 1)
            || CASE WHEN k > 1 THEN '.' || substr(digits, 2) ELSE '' END
            || 'e' || (n - 1)::text;
    END IF;
    RETURN sign || body;
END $$;

-- The text text operators see: a string as it is, a number in its shortest form, a flag as
-- `true`/`false`; NULL for null, lists and objects.
CREATE OR REPLACE FUNCTION cohort.txt(v jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE jsonb_typeof(v)
        WHEN 'string' THEN v #>> '{}'
        WHEN 'number' THEN cohort.number_text((v #>> '{}')::float8)
        WHEN 'boolean' THEN v #>> '{}'
    END
$$;

-- parse_number: a plain decimal within a float's range, white space around it ignored.
CREATE OR REPLACE FUNCTION cohort.parse_number(t text) RETURNS float8
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    s text := cohort.trim(t);
    mantissa text;
    exponent_written text;
    whole text;
    fraction text;
    exponent_text text;
    exponent bigint := 0;
    lead_zeros int;
    n bigint;
BEGIN
    IF s !~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$' THEN
        RETURN NULL;
    END IF;
    mantissa := split_part(lower(ltrim(s, '+-')), 'e', 1);
    exponent_written := split_part(lower(s), 'e', 2);
    whole := split_part(mantissa, '.', 1);
    fraction := split_part(mantissa, '.', 2);
    IF (whole || fraction) !~ '[1-9]' THEN
        RETURN 0;
    END IF;
    IF exponent_written <> '' THEN
        exponent_text := ltrim(ltrim(exponent_written, '+-'), '0');
        IF length(exponent_text) > 12 THEN
            RETURN CASE WHEN left(exponent_written, 1) = '-' THEN 0 ELSE NULL END;
        END IF;
        exponent := coalesce(nullif(exponent_text, '')::bigint, 0);
        IF left(exponent_written, 1) = '-' THEN
            exponent := -exponent;
        END IF;
    END IF;
    lead_zeros := length(whole || fraction) - length(ltrim(whole || fraction, '0'));
    n := length(whole) - lead_zeros + exponent;
    IF n > 310 THEN
        RETURN NULL;
    ELSIF n < -330 THEN
        RETURN 0;
    ELSIF n >= 308 OR n <= -306 THEN
        RETURN cohort.float_at_the_edge(s, n > 0);
    END IF;
    RETURN s::float8;
END $$;

-- compare_decimal: two plain decimals compared exactly, digit by digit (-1, 0, 1), or NULL.
CREATE OR REPLACE FUNCTION cohort.decimal_parts(t text, OUT negative bool, OUT zero bool, OUT exponent bigint, OUT digits text)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    s text := cohort.trim(t);
    parts text[];
    whole text;
    fraction text;
    written bigint := 0;
    e text;
    all_digits text;
    lead_zeros int;
BEGIN
    parts := regexp_match(s, '^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$');
    IF parts IS NULL THEN
        RETURN;
    END IF;
    whole := parts[2];
    fraction := coalesce(parts[3], '');
    IF length(whole) + length(fraction) = 0 THEN
        parts := NULL;
        RETURN;
    END IF;
    IF parts[4] IS NOT NULL THEN
        e := ltrim(ltrim(parts[4], '+-'), '0');
        written := CASE WHEN length(e) > 13 THEN 1099511627776 ELSE least(coalesce(nullif(e, '')::bigint, 0), 1099511627776) END;
        IF left(parts[4], 1) = '-' THEN
            written := -written;
        END IF;
    END IF;
    all_digits := whole || fraction;
    lead_zeros := length(all_digits) - length(ltrim(all_digits, '0'));
    negative := parts[1] = '-';
    zero := all_digits !~ '[1-9]';
    exponent := length(whole) - lead_zeros + written;
    digits := rtrim(ltrim(all_digits, '0'), '0');
END $$;

CREATE OR REPLACE FUNCTION cohort.cmpdec(a text, b text) RETURNS int
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    x record;
    y record;
    sx int;
    sy int;
    magnitude int;
BEGIN
    SELECT * INTO x FROM cohort.decimal_parts(a);
    SELECT * INTO y FROM cohort.decimal_parts(b);
    IF x.zero IS NULL OR y.zero IS NULL THEN
        RETURN NULL;
    END IF;
    sx := CASE WHEN x.zero THEN 0 WHEN x.negative THEN -1 ELSE 1 END;
    sy := CASE WHEN y.zero THEN 0 WHEN y.negative THEN -1 ELSE 1 END;
    IF sx <> sy OR sx = 0 THEN
        RETURN sign(sx - sy);
    END IF;
    magnitude := CASE
        WHEN x.exponent < y.exponent THEN -1
        WHEN x.exponent > y.exponent THEN 1
        WHEN x.digits COLLATE "C" < y.digits COLLATE "C" THEN -1
        WHEN x.digits COLLATE "C" > y.digits COLLATE "C" THEN 1
        ELSE 0 END;
    RETURN CASE WHEN x.negative THEN -magnitude ELSE magnitude END;
END $$;

-- The number a value reads as: a JSON number, or text read by parse_number.
CREATE OR REPLACE FUNCTION cohort.num(v jsonb) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE jsonb_typeof(v)
        WHEN 'number' THEN (v #>> '{}')::float8
        WHEN 'string' THEN cohort.parse_number(v #>> '{}')
    END
$$;

-- Whether the value equals the number `b` written `bt` (exactly, digit by digit, for text).
CREATE OR REPLACE FUNCTION cohort.numeq(v jsonb, b float8, bt text) RETURNS bool
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(cohort.num(v) = b, false)
        AND (jsonb_typeof(v) <> 'string' OR coalesce(cohort.cmpdec(v #>> '{}', bt) = 0, true))
$$;

-- How the value compares with the number `b` written `bt`: -1, 0, 1, or NULL.
CREATE OR REPLACE FUNCTION cohort.ncmp(v jsonb, b float8, bt text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN cohort.num(v) IS NULL THEN NULL
        WHEN cohort.num(v) < b THEN -1
        WHEN cohort.num(v) > b THEN 1
        WHEN jsonb_typeof(v) = 'string' THEN coalesce(cohort.cmpdec(v #>> '{}', bt), 0)
        ELSE 0
    END
$$;

-- parse_date: ISO 8601 as milliseconds since the Unix epoch, or NULL. The shape is checked
-- by one regex without captures (PostgreSQL matches it without backtracking: 1 us a value,
-- against 50 us for `regexp_match` of the same pattern with captures), then the parts are
-- read by position.
CREATE OR REPLACE FUNCTION cohort.parse_date(t text) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    s text;
    rest text;
    digits int;
    y bigint;
    mo int;
    d int;
    h int := 0;
    mi int := 0;
    se int := 0;
    ms int := 0;
    offset_minutes int := 0;
    zh int;
    zm int;
    month_days int;
    yy bigint;
    era bigint;
    yoe bigint;
    doy bigint;
    doe bigint;
    days bigint;
BEGIN
    s := cohort.trim(t);
    IF s !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$' THEN
        RETURN NULL;
    END IF;
    y := substr(s, 1, 4)::bigint;
    mo := substr(s, 6, 2)::int;
    d := substr(s, 9, 2)::int;
    IF mo < 1 OR mo > 12 THEN
        RETURN NULL;
    END IF;
    month_days := CASE
        WHEN mo = 2 AND ((y % 4 = 0 AND y % 100 <> 0) OR y % 400 = 0) THEN 29
        WHEN mo = 2 THEN 28
        WHEN mo IN (4, 6, 9, 11) THEN 30
        ELSE 31 END;
    IF d < 1 OR d > month_days THEN
        RETURN NULL;
    END IF;
    -- The date is 10 characters; anything after it is the time (the regex says so).
    IF length(s) > 10 THEN
        h := substr(s, 12, 2)::int;
        mi := substr(s, 15, 2)::int;
        rest := substr(s, 17);
        IF left(rest, 1) = ':' THEN
            se := substr(rest, 2, 2)::int;
            rest := substr(rest, 4);
            IF left(rest, 1) IN ('.', ',') THEN
                rest := substr(rest, 2);
                digits := length(rest) - length(ltrim(rest, '0123456789'));
                ms := rpad(left(rest, least(digits, 3)), 3, '0')::int;
                rest := substr(rest, digits + 1);
            END IF;
        END IF;
        IF h > 23 OR mi > 59 OR se > 60 THEN
            RETURN NULL;
        END IF;
        IF left(rest, 1) IN ('+', '-') THEN
            zh := substr(rest, 2, 2)::int;
            zm := coalesce(nullif(ltrim(substr(rest, 4), ':'), '')::int, 0);
            IF zh > 23 OR zm > 59 THEN
                RETURN NULL;
            END IF;
            offset_minutes := CASE WHEN left(rest, 1) = '-' THEN -(zh * 60 + zm) ELSE zh * 60 + zm END;
        END IF;
    END IF;
    yy := CASE WHEN mo <= 2 THEN y - 1 ELSE y END;
    era := floor(yy / 400.0)::bigint;
    yoe := yy - era * 400;
    doy := (153 * ((mo + 9) % 12) + 2) / 5 + d - 1;
    doe := yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days := era * 146097 + doe - 719468;
    RETURN days * 86400000 + (((h * 60 + mi) * 60 + se) * 1000 + ms)::bigint - offset_minutes * 60000::bigint;
END $$;

CREATE OR REPLACE FUNCTION cohort.date(v jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(v) = 'string' THEN cohort.parse_date(v #>> '{}') END
$$;

CREATE OR REPLACE FUNCTION cohort.dcmp(v jsonb, b bigint) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT sign(cohort.date(v) - b)::int $$;

-- Version::compare_text: the value's text as a version compared with the bound, segment by
-- segment as whole numbers of any size, missing segments 0; NULL when not a version.
CREATE OR REPLACE FUNCTION cohort.vcmp(v jsonb, bound text) RETURNS int
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    a text[];
    b text[];
    x text;
    y text;
    s text;
    n int;
BEGIN
    s := cohort.trim(cohort.txt(v));
    IF s IS NULL OR s !~ '^[vV]?[0-9]+(\.[0-9]+)*$' THEN
        RETURN NULL;
    END IF;
    a := string_to_array(ltrim(s, 'vV'), '.');
    bound := cohort.trim(bound);
    IF bound ~ '^[vV]' THEN
        bound := substr(bound, 2);
    END IF;
    b := string_to_array(bound, '.');
    n := greatest(array_length(a, 1), array_length(b, 1));
    FOR i IN 1..n LOOP
        x := coalesce(nullif(ltrim(coalesce(a[i], '0'), '0'), ''), '0');
        y := coalesce(nullif(ltrim(coalesce(b[i], '0'), '0'), ''), '0');
        IF length(x) <> length(y) THEN
            RETURN CASE WHEN length(x) < length(y) THEN -1 ELSE 1 END;
        END IF;
        IF x COLLATE "C" <> y COLLATE "C" THEN
            RETURN CASE WHEN x COLLATE "C" < y COLLATE "C" THEN -1 ELSE 1 END;
        END IF;
    END LOOP;
    RETURN 0;
END $$;

-- is blank: missing, null, text of white space only, an empty list.
CREATE OR REPLACE FUNCTION cohort.blank(v jsonb) RETURNS bool
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN v IS NULL THEN true
        WHEN jsonb_typeof(v) = 'null' THEN true
        WHEN jsonb_typeof(v) = 'string' THEN cohort.trim(v #>> '{}') = ''
        WHEN jsonb_typeof(v) = 'array' THEN jsonb_array_length(v) = 0
        ELSE false
    END
$$;

-- The scalar elements of a list `depth` lists deep in an attribute, through nested lists
-- up to 32 deep (MAX_LIST_DEPTH: a list 32 deep is not looked into).
CREATE OR REPLACE FUNCTION cohort.elements(v jsonb, depth int) RETURNS SETOF jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    WITH RECURSIVE walk(e, d) AS (
        SELECT v, depth
        UNION ALL
        SELECT x, walk.d + 1
        FROM walk, jsonb_array_elements(
            CASE WHEN jsonb_typeof(walk.e) = 'array' AND walk.d < 32 THEN walk.e ELSE '[]'::jsonb END
        ) AS x
    )
    SELECT e FROM walk WHERE jsonb_typeof(e) IN ('string', 'number', 'boolean')
$$;

-- Unicode word characters as Rust's regexes read `\w` and `\b`, as ranges of code points.
DROP TABLE IF EXISTS cohort.word_range;
CREATE TABLE cohort.word_range (lo int PRIMARY KEY, hi int NOT NULL);
{{WORD_RANGE_ROWS}}

CREATE OR REPLACE FUNCTION cohort.is_word(c text) RETURNS bool
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN c IS NULL OR c = '' THEN false
        WHEN octet_length(c) = 1 THEN strpos('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz', c) > 0
        ELSE coalesce((SELECT ascii(c) <= r.hi FROM cohort.word_range AS r WHERE r.lo <= ascii(c) ORDER BY r.lo DESC LIMIT 1), false)
    END
$$;

-- Whether a character is in one of the ranges of code points [lo[i], hi[i]].
CREATE OR REPLACE FUNCTION cohort.in_ranges(c text, lo int8[], hi int8[]) RETURNS bool
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT c <> '' AND EXISTS (SELECT 1 FROM unnest(lo, hi) AS r(l, h) WHERE ascii(c) BETWEEN r.l AND r.h)
$$;

-- Whether every character of a text is in one of the ranges.
CREATE OR REPLACE FUNCTION cohort.all_in_ranges(t text, lo int8[], hi int8[]) RETURNS bool
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT NOT EXISTS (SELECT 1 FROM string_to_table(t, NULL) AS ch WHERE NOT cohort.in_ranges(ch, lo, hi))
$$;

CREATE OR REPLACE FUNCTION cohort.version() RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT {{VERSION}}::text $$;
