//! Drawings of the real CACAO examples (../shared/cacao/examples) and of synthetic playbooks:
//! every step drawn with its shape and label in every format, well-formed SVG, hostile text
//! escaped, no overlapping boxes, edges clear of boxes, and a 100,000-step chain without a stack
//! overflow.
//!
//! `CACAO_RENDER_DUMP=/tmp/dir cargo test --test render -- --ignored dump` writes every drawing
//! to that directory, to look at.

use cacao_forge::workflow::render::{self, layout::Layout, mermaid, sample, svg, Format};
use cacao_forge::workflow::{Analysis, StepKind, WorkflowGraph};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/cacao/examples")
}

/// (file name, document) of every example, sorted by name.
fn examples() -> Vec<(String, Value)> {
    let dir = examples_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "the CACAO examples are missing: cannot read {} ({e}); they come with the shared data next to the crate",
            dir.display()
        )
    });
    let mut out: Vec<(String, Value)> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            let doc = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), doc)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!out.is_empty(), "no *.json examples in {}", dir.display());
    out
}

fn find(name_part: &str) -> Value {
    examples()
        .into_iter()
        .find(|(n, _)| n.contains(name_part))
        .unwrap_or_else(|| panic!("no example named *{name_part}* in {}", examples_dir().display()))
        .1
}

fn graph(doc: &Value) -> (WorkflowGraph, Analysis) {
    let g = WorkflowGraph::from_document(doc);
    let a = Analysis::of(&g);
    (g, a)
}

/// A tiny XML well-formedness checker: balanced and properly nested elements, one root, quoted
/// attributes without `<`, only the predefined or numeric entities, no stray `<` or `&` in text,
/// comments, processing instructions, CDATA and doctype are refused (we never write them).
fn check_well_formed(xml: &str) -> Result<(), String> {
    fn check_entities(s: &str, at: usize) -> Result<(), String> {
        let mut rest = s;
        while let Some(i) = rest.find('&') {
            let after = &rest[i + 1..];
            let end = after.find(';').ok_or_else(|| format!("unterminated entity near byte {at}"))?;
            let name = &after[..end];
            let ok = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
                || (name.starts_with("#x") && name.len() > 2 && name[2..].chars().all(|c| c.is_ascii_hexdigit()))
                || (name.starts_with('#') && name.len() > 1 && name[1..].chars().all(|c| c.is_ascii_digit()));
            if !ok {
                return Err(format!("bad entity &{name}; near byte {at}"));
            }
            rest = &after[end + 1..];
        }
        Ok(())
    }
    for (i, c) in xml.char_indices() {
        let code = c as u32;
        if (code < 0x20 && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}' {
            return Err(format!("character U+{code:04X} not allowed in XML at byte {i}"));
        }
    }
    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    let mut pos = 0;
    while pos < xml.len() {
        let rest = &xml[pos..];
        let Some(lt) = rest.find('<') else {
            if !rest.trim().is_empty() && stack.is_empty() {
                return Err("text after the root element".into());
            }
            check_entities(rest, pos)?;
            break;
        };
        let text = &rest[..lt];
        if stack.is_empty() && !text.trim().is_empty() {
            return Err(format!("text outside the root element at byte {pos}"));
        }
        if text.contains('>') && text.contains("]]>") {
            return Err("]]> in text".into());
        }
        check_entities(text, pos)?;
        let tag_start = pos + lt;
        let tag_rest = &xml[tag_start..];
        if tag_rest.starts_with("<!") || tag_rest.starts_with("<?") {
            return Err(format!("comment, doctype, CDATA or PI at byte {tag_start}"));
        }
        // Find the end of the tag, skipping quoted attribute values.
        let mut quote: Option<char> = None;
        let mut end = None;
        for (j, c) in tag_rest.char_indices().skip(1) {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), '<') => return Err(format!("< inside an attribute value at byte {}", tag_start + j)),
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '<') => return Err(format!("< inside a tag at byte {}", tag_start + j)),
                (None, '>') => {
                    end = Some(j);
                    break;
                }
                _ => {}
            }
        }
        let end = end.ok_or_else(|| format!("unterminated tag at byte {tag_start}"))?;
        let inner = &tag_rest[1..end];
        check_entities(inner, tag_start)?;
        if let Some(name) = inner.strip_prefix('/') {
            let name = name.trim();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?} at byte {tag_start}")),
            }
        } else {
            let self_closing = inner.ends_with('/');
            let body = inner.trim_end_matches('/');
            let name = body.split(|c: char| c.is_whitespace()).next().unwrap_or("");
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
            {
                return Err(format!("bad element name {name:?} at byte {tag_start}"));
            }
            // Attributes: name="value" pairs, each name once.
            let mut attrs = body[name.len()..].trim();
            let mut seen: Vec<&str> = Vec::new();
            while !attrs.is_empty() {
                let eq = attrs
                    .find('=')
                    .ok_or_else(|| format!("attribute without value in <{name}> at byte {tag_start}"))?;
                let an = attrs[..eq].trim();
                if an.is_empty() || seen.contains(&an) {
                    return Err(format!("bad or repeated attribute {an:?} in <{name}>"));
                }
                seen.push(an);
                let v = attrs[eq + 1..].trim_start();
                let q = v
                    .chars()
                    .next()
                    .filter(|c| *c == '"' || *c == '\'')
                    .ok_or_else(|| format!("unquoted attribute {an} in <{name}>"))?;
                let close = v[1..].find(q).ok_or_else(|| format!("unterminated attribute {an}"))?;
                attrs = v[close + 2..].trim_start();
            }
            if stack.is_empty() {
                roots += 1;
            }
            if !self_closing {
                stack.push(name);
            }
        }
        pos = tag_start + end + 1;
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{open}> never closed"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(())
}

#[test]
fn checker_rejects_broken_xml() {
    assert!(check_well_formed(r#"<svg a="1"><g><text>x &amp; y</text></g></svg>"#).is_ok());
    for bad in [
        "<svg><g></svg>",
        "<svg>a < b</svg>",
        "<svg>a & b</svg>",
        r#"<svg a="1" a="2"/>"#,
        r#"<svg a=1/>"#,
        "<svg/><svg/>",
        "<svg>&nbsp;</svg>",
        "<svg>\u{1}</svg>",
        "<svg><!-- x --></svg>",
    ] {
        assert!(check_well_formed(bad).is_err(), "{bad} accepted");
    }
}

/// Edges must not run through boxes: sampled points of every route stay outside every box
/// (shrunk by a few pixels, since routes start and end on box borders).
fn edges_clear_of_boxes(layout: &Layout) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, route) in layout.edges.iter().enumerate() {
        for p in route.sample(12) {
            for (j, b) in layout.nodes.iter().enumerate() {
                if b.contains(p, 3.0) {
                    problems.push(format!("edge {i} passes through node {j} at ({:.0}, {:.0})", p.x, p.y));
                    break;
                }
            }
        }
    }
    problems.dedup_by(|a, b| a.split(" at ").next() == b.split(" at ").next());
    problems
}

fn check_drawings(name: &str, doc: &Value) {
    let (g, a) = graph(doc);
    let drawing = render::render(&g, &a, Format::Svg);
    check_well_formed(&drawing).unwrap_or_else(|e| panic!("{name}: SVG not well-formed: {e}"));
    assert!(drawing.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{name}");
    assert!(drawing.contains(" viewBox=\"0 0 ") && drawing.contains(" width=\"") && drawing.contains(" height=\""));
    assert!(!drawing.contains("href"), "{name}: no external resources");
    let mmd = render::render(&g, &a, Format::Mermaid);
    let dot = render::render(&g, &a, Format::Dot);
    assert!(mmd.contains("flowchart TD\n"), "{name}");
    assert!(dot.starts_with("digraph workflow {\n") && dot.ends_with("}\n"), "{name}");
    for node in g.graph.node_indices() {
        let step = &g.graph[node];
        let kind = step.kind.as_str();
        // SVG: a group per step with its type and id, its label in full in the tooltip.
        let group = format!("<g class=\"step {}\" data-id=\"{}\"", svg::escape_xml(kind), svg::escape_xml(&step.id));
        let at = drawing.find(&group).unwrap_or_else(|| panic!("{name}: no SVG group for {}", step.id));
        let rest = &drawing[at..];
        let group_svg = &rest[..rest.find("</g>").unwrap()];
        let shape = match step.kind {
            StepKind::IfCondition | StepKind::WhileCondition | StepKind::SwitchCondition => "<polygon",
            _ => "<rect",
        };
        assert!(group_svg.contains(shape), "{name}: {} drawn as {shape}", step.id);
        if step.kind != StepKind::Missing {
            let label = svg::escape_xml(step.label());
            assert!(group_svg.contains(&label), "{name}: tooltip of {} has its label {label}", step.id);
        }
        // Mermaid: a node line with the shape of its type.
        let id = mermaid::node_id(&g, node);
        let open = match step.kind {
            StepKind::Start | StepKind::End => "([\"",
            StepKind::PlaybookAction => "[[\"",
            StepKind::Parallel => "[/\"",
            StepKind::IfCondition => "{\"",
            StepKind::WhileCondition | StepKind::SwitchCondition => "{{\"",
            StepKind::Other(_) => "(\"",
            _ => "[\"",
        };
        assert!(mmd.contains(&format!("    {id}{open}")), "{name}: Mermaid node {id} with {open}");
        // DOT: a node statement with a shape and a label.
        let stmt = format!("  \"{}\" [shape=", render::dot::escape(&step.id));
        let line = dot.lines().find(|l| l.starts_with(&stmt)).unwrap_or_else(|| panic!("{name}: DOT node {}", step.id));
        assert!(line.contains("label=\""), "{name}: DOT label of {}", step.id);
    }
    let mmd_edges = mmd.lines().filter(|l| l.contains(" -->") || l.contains(" -.->")).count();
    assert_eq!(mmd_edges, g.graph.edge_count(), "{name}: Mermaid edges");
    assert_eq!(dot.matches(" -> ").count(), g.graph.edge_count(), "{name}: DOT edges");
    assert_eq!(
        drawing.matches("marker-end=\"url(#a-").count(),
        g.graph.edge_count() + legend_edges(&drawing),
        "{name}: SVG edges"
    );

    let layout = svg::svg_layout(&g, &a);
    let overlaps = layout.overlapping_boxes(4.0);
    assert!(overlaps.is_empty(), "{name}: overlapping boxes {overlaps:?}");
    let crossings = edges_clear_of_boxes(&layout);
    assert!(crossings.is_empty(), "{name}: {crossings:?}");
}

/// Arrow samples in the legend (one per edge kind shown there).
fn legend_edges(svg: &str) -> usize {
    let header = &svg[svg.find("<g class=\"header\">").unwrap()..];
    let header = &header[..header.find("</g>").unwrap()];
    header.matches("marker-end=").count()
}

#[test]
fn every_example_is_drawn_in_every_format() {
    for (name, doc) in examples() {
        check_drawings(&name, &doc);
    }
}

#[test]
fn synthetic_playbooks_are_drawn_cleanly() {
    for n in [2, 10, 60, 200, 500] {
        check_drawings(&format!("synthetic {n}"), &sample::synthetic_playbook(n));
    }
    for seed in 1..6 {
        check_drawings(&format!("synthetic 150 seed {seed}"), &sample::synthetic_playbook_seeded(150, seed));
    }
}

#[test]
fn switch_example_shows_its_cases() {
    let doc = find("Extensions__layout");
    let (g, a) = graph(&doc);
    let drawing = render::to_svg(&g, &a);
    for label in ["case 1", "case 2", "case default", "on_completion", "switch case example", "Example Playbook"] {
        assert!(drawing.contains(&format!(">{label}<")), "label {label}");
    }
    // The four branches out of the switch sit side by side on the next layer.
    let layout = svg::svg_layout(&g, &a);
    let switch = g.index["switch-condition--72c55a11-5091-4714-8050-baa854d72eda"];
    let below: Vec<_> = g.graph.neighbors(switch).map(|n| layout.nodes[n.index()].layer).collect();
    assert_eq!(below.len(), 4);
    assert!(below.iter().all(|&l| l == layout.nodes[switch.index()].layer + 1));
}

#[test]
fn loops_are_drawn_as_loop_backs() {
    let doc = find("infinite_playbook");
    let (g, a) = graph(&doc);
    let layout = svg::svg_layout(&g, &a);
    let backs = layout.edges.iter().filter(|e| e.back).count();
    assert_eq!(backs, a.back_edges.len());
    assert!(backs >= 1, "the self-loop is a loop-back");
    let drawing = render::to_svg(&g, &a);
    assert!(drawing.contains("(loop-back): "));
    // A while loop from the synthetic playbook: the loop-back leaves the body on the right and
    // enters the while step from the right.
    let (g, a) = graph(&sample::synthetic_playbook(200));
    let layout = svg::svg_layout(&g, &a);
    for e in &a.back_edges {
        let route = &layout.edges[e.index()];
        let (s, t) = g.graph.edge_endpoints(*e).unwrap();
        assert!(route.back);
        assert!((route.start.x - layout.nodes[s.index()].right()).abs() < 0.5);
        assert!((route.end().x - layout.nodes[t.index()].right()).abs() < 0.5);
    }
}

#[test]
fn missing_steps_are_drawn_distinctly() {
    let doc = json!({"name": "dangling", "workflow_start": "start--1", "workflow": {
        "start--1": {"type": "start", "on_completion": "action--2"},
        "action--2": {"type": "action", "name": "Act", "on_success": "end--3", "on_failure": "action--404"},
        "end--3": {"type": "end"}
    }});
    let (g, a) = graph(&doc);
    let drawing = render::to_svg(&g, &a);
    check_well_formed(&drawing).unwrap();
    let at = drawing.find("<g class=\"step missing\" data-id=\"action--404\"").expect("missing step drawn");
    let group = &drawing[at..at + drawing[at..].find("</g>").unwrap()];
    assert!(group.contains("stroke-dasharray") && group.contains("#c62828") && group.contains("MISSING STEP"));
    assert!(drawing.contains(">missing step<"), "in the legend");
}

fn hostile_doc() -> Value {
    let evil = "<script>alert('x')</script> & \"quotes\" ]]> --> |pipe| [b] {c} #d; \\N\n%% comment";
    json!({"name": evil, "workflow_start": "start--1", "workflow": {
        "start--1": {"type": "start", "name": evil, "on_completion": "action--2"},
        "action--2": {"type": "action", "name": evil, "description": evil,
            "commands": [{"type": "bash", "command": evil}], "on_completion": "switch-condition--3"},
        "switch-condition--3": {"type": "switch-condition", "name": evil, "switch": evil,
            "cases": {evil: "end--4", "default": "end--4"}},
        "end--4": {"type": "end", "name": evil}
    }})
}

#[test]
fn hostile_names_are_escaped_in_every_format() {
    let doc = hostile_doc();
    let (g, a) = graph(&doc);
    let drawing = render::to_svg(&g, &a);
    check_well_formed(&drawing).unwrap_or_else(|e| panic!("{e}"));
    assert!(!drawing.contains("<script"));
    assert!(drawing.contains("&lt;script&gt;"));

    let mmd = render::to_mermaid(&g, &a);
    for line in mmd.lines().skip_while(|l| *l != "flowchart TD").skip(1) {
        assert!(!line.contains("<script"), "{line}");
        if let Some(label_start) = line.find("[\"").or_else(|| line.find("{\"")).or_else(|| line.find("|\"")) {
            let label = &line[label_start + 2..];
            let inner = &label[..label.rfind('"').unwrap()];
            assert!(
                !inner.contains('"') && !inner.contains('[') && !inner.contains('|') && !inner.contains('{'),
                "{line}"
            );
        }
    }
    assert!(!mmd.contains("\n%% comment"), "newlines cannot start a Mermaid comment");
    assert_eq!(mmd.lines().skip_while(|l| *l != "flowchart TD").filter(|l| l.contains(" -->")).count(), 4, "{mmd}");

    let dot = render::to_dot(&g, &a);
    for line in dot.lines() {
        let unescaped = line.replace("\\\\", "").replace("\\\"", "");
        assert_eq!(unescaped.matches('"').count() % 2, 0, "unbalanced quotes: {line}");
    }
    assert!(dot.contains("\\\\N"), "a backslash from the playbook stays a literal backslash");
    assert_eq!(dot.lines().filter(|l| l.contains(" -> ")).count(), 4, "{dot}");
}

#[test]
fn long_text_is_cut_with_the_full_text_in_the_tooltip() {
    let long = "Enumerate the files it wants to encrypt, skipping system folders, backups and the recycle bin";
    let doc = json!({"workflow_start": "start--1", "workflow": {
        "start--1": {"type": "start", "on_completion": "action--2"},
        "action--2": {"type": "action", "name": long, "commands": [{"type": "bash", "command": long}], "on_completion": "end--3"},
        "end--3": {"type": "end"}
    }});
    let (g, a) = graph(&doc);
    let drawing = render::to_svg(&g, &a);
    assert!(drawing.contains(&format!("<title>{long}\n")), "full name in the tooltip");
    assert!(drawing.contains("…</text>"), "cut name in the box");
    assert!(drawing.contains("Untitled playbook"));
}

#[test]
fn empty_and_malformed_workflows_still_draw() {
    for doc in
        [json!(null), json!({"workflow": []}), json!({"name": "x", "workflow": {}}), json!({"workflow": {"a": 5}})]
    {
        let (g, a) = graph(&doc);
        let drawing = render::to_svg(&g, &a);
        check_well_formed(&drawing).unwrap_or_else(|e| panic!("{doc}: {e}"));
        assert!(render::to_mermaid(&g, &a).contains("flowchart TD"));
        assert!(render::to_dot(&g, &a).starts_with("digraph"));
    }
}

#[test]
fn a_100_000_step_chain_renders_without_overflowing_the_stack() {
    let n = 100_000;
    let mut wf = serde_json::Map::new();
    let id = |i: usize| format!("action--{}", sample::uuid_v4_shaped(9, i as u64));
    wf.insert("start--1".into(), json!({"type": "start", "on_completion": id(0)}));
    for i in 0..n {
        let next = if i + 1 == n { "end--1".to_owned() } else { id(i + 1) };
        wf.insert(id(i), json!({"type": "action", "name": format!("step {i}"), "on_completion": next}));
    }
    wf.insert("end--1".into(), json!({"type": "end"}));
    let doc = json!({"name": "long chain", "workflow_start": "start--1", "workflow": wf});
    let started = std::time::Instant::now();
    let (g, a) = graph(&doc);
    let layout = svg::svg_layout(&g, &a);
    assert_eq!(layout.layer_count, n + 2);
    assert!(layout.overlapping_boxes(1.0).is_empty());
    let drawing = render::to_svg(&g, &a);
    assert!(drawing.ends_with("</svg>\n"));
    assert_eq!(drawing.matches("<g class=\"step ").count(), n + 2);
    assert!(render::to_mermaid(&g, &a).lines().count() > n);
    assert!(render::to_dot(&g, &a).lines().count() > n);
    eprintln!("100,000-step chain: build, layout, SVG, Mermaid and DOT in {:?}", started.elapsed());
    // Generous: debug builds on a slow machine.
    assert!(started.elapsed().as_secs() < 120, "took {:?}", started.elapsed());
}

#[test]
fn a_wide_and_deep_synthetic_playbook_lays_out_in_bounded_time() {
    let doc = sample::synthetic_playbook(20_000);
    let (g, a) = graph(&doc);
    let started = std::time::Instant::now();
    let layout = svg::svg_layout(&g, &a);
    assert!(layout.overlapping_boxes(1.0).is_empty());
    assert!(started.elapsed().as_secs() < 60, "took {:?}", started.elapsed());
}

#[test]
#[ignore = "writes drawings for a person to look at; set CACAO_RENDER_DUMP"]
fn dump() {
    let Ok(dir) = std::env::var("CACAO_RENDER_DUMP") else { return };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut docs = examples();
    docs.push(("synthetic-200.json".into(), sample::synthetic_playbook(200)));
    docs.push(("synthetic-40.json".into(), sample::synthetic_playbook(40)));
    let mut wf = serde_json::Map::new();
    wf.insert("start--1".into(), json!({"type": "start", "on_completion": "action--0"}));
    for i in 0..8 {
        let next = if i == 7 { "end--1".to_owned() } else { format!("action--{}", i + 1) };
        wf.insert(
            format!("action--{i}"),
            json!({"type": "action", "name": format!("Step {i}"), "on_success": next, "on_failure": "action--handler"}),
        );
    }
    wf.insert("action--handler".into(), json!({"type": "action", "name": "Escalate", "on_completion": "end--1"}));
    wf.insert("end--1".into(), json!({"type": "end"}));
    docs.push(("hostile.json".into(), hostile_doc()));
    docs.push(("all-shapes.json".into(), json!({"name": "Every shape <&> \"quoted\"", "workflow_start": "start--1",
        "workflow_exception": "action--exc", "workflow": {
        "start--1": {"type": "start", "on_completion": "parallel--2"},
        "parallel--2": {"type": "parallel", "name": "Fan out", "next_steps": ["if-condition--3", "playbook-action--4"]},
        "if-condition--3": {"type": "if-condition", "name": "<script>alert('x')</script>", "condition": "a > b && c < d",
            "on_true": "while-condition--5", "on_false": "end--9"},
        "while-condition--5": {"type": "while-condition", "name": "Retry", "condition": "attempts < 3",
            "on_true": "action--6", "on_completion": "switch-condition--7"},
        "action--6": {"type": "action", "name": "Try & retry \"now\"", "commands": [
            {"type": "bash", "command": "curl -s 'https://x.example/?a=1&b=<2>'"}, {"type": "ssh", "command": "uptime"}],
            "on_completion": "while-condition--5"},
        "switch-condition--7": {"type": "switch-condition", "name": "Route", "switch": "__severity__:value",
            "cases": {"high": "loop--8", "default": "action--404"}},
        "loop--8": {"type": "loop", "name": "Generated loop step", "on_completion": "end--9"},
        "playbook-action--4": {"type": "playbook-action", "name": "Forensics",
            "playbook_id": "playbook--aa1898b6-5251-49b4-aeb7-fd5e912583ff", "on_completion": "end--9"},
        "action--exc": {"type": "action", "name": "Page the on-call", "on_completion": "end--9"},
        "action--orphan": {"type": "action", "name": "Nobody calls me", "on_completion": "end--9"},
        "end--9": {"type": "end"}
    }})));
    docs.push((
        "fail-anywhere.json".into(),
        json!({"name": "Fail anywhere", "workflow_start": "start--1", "workflow": wf}),
    ));
    for (name, doc) in docs {
        let (g, a) = graph(&doc);
        let stem = name.trim_end_matches(".json");
        for f in Format::ALL {
            std::fs::write(dir.join(format!("{stem}.{}", f.extension())), render::render(&g, &a, f)).unwrap();
        }
    }
}

#[test]
fn long_edges_from_everywhere_stay_bounded() {
    // Every action of a 100,000-step chain can fail to one handler at the bottom: the long edges
    // would need billions of dummies; the layout caps them and draws the rest directly.
    let n = 100_000;
    let mut wf = serde_json::Map::new();
    let id = |i: usize| format!("action--{}", sample::uuid_v4_shaped(11, i as u64));
    wf.insert("start--1".into(), json!({"type": "start", "on_completion": id(0)}));
    for i in 0..n {
        let next = if i + 1 == n { "end--1".to_owned() } else { id(i + 1) };
        wf.insert(id(i), json!({"type": "action", "on_success": next, "on_failure": "action--handler"}));
    }
    wf.insert("action--handler".into(), json!({"type": "action", "name": "Escalate", "on_completion": "end--1"}));
    wf.insert("end--1".into(), json!({"type": "end"}));
    let doc = json!({"name": "fail anywhere", "workflow_start": "start--1", "workflow": wf});
    let (g, a) = graph(&doc);
    let started = std::time::Instant::now();
    let layout = svg::svg_layout(&g, &a);
    eprintln!("100,000 steps with 100,000 long edges: layout in {:?}", started.elapsed());
    assert_eq!(layout.edges.len(), g.graph.edge_count());
    assert!(layout.overlapping_boxes(1.0).is_empty());
    assert!(started.elapsed().as_secs() < 120, "took {:?}", started.elapsed());
}

#[test]
fn synthetic_playbooks_are_valid_cacao() {
    for steps in [10, 40, 200] {
        let doc = cacao_forge::workflow::render::sample::synthetic_playbook(steps);
        let report = cacao_forge::cacao::validate(&doc);
        assert!(report.is_valid(), "{steps} steps: {:#?}", report.findings);
    }
}
