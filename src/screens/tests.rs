//! The screens rendered (server-side) from what a real engine answers over a real store: the demo evening's
//! tasks on an enrolled phone, no network.

use super::*;
use crate::i18n::Lang;
use crate::platform::Client;
use jx_core::bytes::Sha256;
use jx_core::demo::{DEMO_EVENING, demo_town};
use jx_core::event::{Actor, Envelope, EventPayload};
use jx_core::{DeviceId, EventId, StaffId, Timestamp};
use jx_engine::protocol::{OutboxView, TaskView, Tonight};
use jx_engine::{Engine, EngineOptions, Request, Response};
use jx_store::{DeviceIdentity, Store};

const STAFF: StaffId = StaffId(4);

/// An enrolled phone holding the first `n` tasks of the demo evening, and its engine.
fn engine(dir: &std::path::Path, n: usize) -> Engine {
    let mut store = Store::open(dir).expect("store opens");
    let id = DeviceIdentity {
        device: DeviceId::v7(1, [7; 10]),
        staff: STAFF,
        centre_url: "http://127.0.0.1:1".into(),
        token: Some("t".into()),
    };
    store.enrol(&id, DEMO_EVENING).expect("enrols");
    let town = demo_town();
    let sheets: Vec<_> = town
        .tasks
        .iter()
        .take(n)
        .enumerate()
        .map(|(i, t)| {
            let assigned = Envelope {
                id: EventId::v7(1_000, [i as u8; 10]),
                task: t.id,
                actor: Actor::Coordinator { staff: StaffId(900) },
                seq: i as u64 + 1,
                prev: Sha256::ZERO,
                at: Timestamp(DEMO_EVENING.0 - 1_000),
                payload: EventPayload::Assigned { staff: STAFF },
                signature: None,
            };
            (town.sheet(t).expect("a sheet"), vec![assigned])
        })
        .collect();
    store.upsert_tasks(&sheets, DEMO_EVENING).expect("tasks stored");
    Engine::new(store, EngineOptions { sync_every: None, ..EngineOptions::default() })
}

fn ask(e: &Engine, req: Request) -> Response {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(e.handle(req)).expect("the engine answers")
}

#[derive(Props, Clone, PartialEq)]
struct Shown {
    lang: Lang,
    what: What,
}

#[derive(Clone, PartialEq)]
enum What {
    Tonight(Tonight),
    Task(Box<TaskView>),
    Outbox(OutboxView),
    Resident(Box<jx_engine::draft::Draft>),
}

/// A store for the screens' engine context: these renders never ask it anything, but the context must exist.
fn idle_store() -> Store {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("tempdir"));
    Store::open(dir.path().join(format!("{:?}", std::thread::current().id()))).expect("store")
}

/// The app's contexts around one screen.
#[allow(non_snake_case)]
fn Frame(p: Shown) -> Element {
    use_context_provider(|| Signal::new(p.lang));
    use_context_provider(|| Signal::new(Look { dark: true, large: false }));
    use_context_provider(|| Signal::new(Screen::Tonight));
    use_context_provider(|| Signal::new(Revision::default()));
    use_context_provider(|| {
        Client::over(Engine::new(idle_store(), EngineOptions { sync_every: None, ..EngineOptions::default() }))
    });
    match p.what {
        What::Tonight(t) => rsx! { tonight::TonightView { tonight: t } },
        What::Task(t) => rsx! { task::TaskDetail { task: *t } },
        What::Outbox(v) => rsx! { outbox::OutboxList { view: v } },
        What::Resident(d) => rsx! { ResidentFrame { draft: *d } },
    }
}

#[component]
fn ResidentFrame(draft: jx_engine::draft::Draft) -> Element {
    let run = use_callback(|_: Request| {});
    // A household with a card on file and one family member: the resident may answer those ways too.
    let household = super::handoff::Household {
        card: true,
        proxies: vec![jx_engine::protocol::ProxyChoice { id: 7, name: "李**".into(), relation: "女儿".into() }],
    };
    rsx! { resident::ResidentView { draft, busy: false, error: None, run, household, on_leave: |_| {} } }
}

fn render(lang: Lang, what: What) -> String {
    let mut dom = VirtualDom::new_with_props(Frame, Shown { lang, what });
    dom.rebuild_in_place();
    dioxus_ssr::render(&dom)
}

#[test]
fn tonight_shows_every_task_by_building_with_progress_and_green_marks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = engine(dir.path(), 12);
    let Response::Tonight(t) = ask(&e, Request::Tonight { from: None }) else { panic!("tonight") };
    let html = render(Lang::ZhCn, What::Tonight(t.clone()));
    assert_eq!(html.matches("data-testid=\"task-row\"").count(), 12, "{html}");
    assert_eq!(html.matches("data-testid=\"stop\"").count(), t.todo.len());
    assert!(html.contains("已完成 0/12"), "{html}");
    let green = t.todo.iter().flat_map(|s| &s.tasks).filter(|r| r.green).count();
    assert_eq!(html.matches("data-testid=\"green\"").count(), green);
    // Green-channel buildings come first when the phone does not know where it is.
    if green > 0 {
        assert!(t.todo[0].tasks.iter().any(|r| r.green), "a green stop leads the route");
    }
    // Buildings are headed with their compound's name.
    let town = demo_town();
    for stop in &t.todo {
        let name = &town.compound(stop.compound).expect("a demo compound").name;
        assert!(html.contains(name.as_str()), "the compound {name} is named");
    }
    // No resident's full name on the list: surnames only.
    for task in town.tasks.iter().take(12) {
        let sheet = town.sheet(task).expect("sheet");
        if sheet.resident_name.chars().count() > 1 {
            assert!(!html.contains(&sheet.resident_name), "full name {} on the route list", sheet.resident_name);
        }
    }
    let en = render(Lang::En, What::Tonight(t));
    assert!(en.contains("Done 0/12") && !en.contains("已完成"), "{en}");
}

#[test]
fn a_task_shows_the_masked_phone_with_a_call_button_and_what_proof_it_needs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = engine(dir.path(), 3);
    let town = demo_town();
    let first = &town.tasks[0];
    let sheet = town.sheet(first).expect("sheet");
    let Response::Task(t) = ask(&e, Request::Task { task: first.id }) else { panic!("task") };
    let html = render(Lang::ZhCn, What::Task(t));
    assert!(html.contains(&format!("href=\"tel:{}\"", sheet.resident_phone)), "{html}");
    assert!(html.contains(&jx_core::model::mask_phone(&sheet.resident_phone)));
    assert!(html.contains(&sheet.task.address.to_string()), "the address down to the room");
    assert!(html.contains("data-testid=\"start-handoff\"") && html.contains("data-testid=\"start-fail\""));
    for r in &sheet.task.proof.requires {
        assert!(html.contains(&crate::i18n::requirement(Lang::ZhCn, *r)), "{r:?} listed");
    }
}

#[test]
fn a_handed_over_task_offers_to_add_proof_and_shows_the_coordinators_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = engine(dir.path(), 3);
    let town = demo_town();
    let Response::Task(open) = ask(&e, Request::Task { task: town.tasks[0].id }) else { panic!("task") };
    let html = render(Lang::ZhCn, What::Task(open.clone()));
    assert!(!html.contains("data-testid=\"add-proof\""), "nothing handed over yet: {html}");

    let mut t = open;
    t.status = jx_core::TaskStatus::Delivered;
    t.open = false;
    t.can_add_proof = true;
    let html = render(Lang::ZhCn, What::Task(t.clone()));
    assert!(html.contains("data-testid=\"add-proof\"") && html.contains("补充证明"), "{html}");
    assert!(!html.contains("proof-asked-note"), "no request, no alert: {html}");
    t.proof_asked = Some("请补拍门牌".into());
    let html = render(Lang::ZhCn, What::Task(t.clone()));
    assert!(html.contains("data-testid=\"proof-asked-note\"") && html.contains("请补拍门牌"), "{html}");
    assert!(html.contains("协调员要求补充这次交接的证明"), "{html}");
    let en = render(Lang::En, What::Task(t));
    assert!(en.contains("A coordinator asks for more proof") && en.contains("Send the added proof"), "{en}");
}

#[test]
fn the_outbox_shows_each_recorded_fact_and_a_refusal_says_why_and_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = engine(dir.path(), 3);
    let town = demo_town();
    let task = town.tasks[1].id;
    let fail = Request::Fail {
        task,
        reason: jx_core::event::FailureReason::NobodyHome,
        note: String::new(),
        retry_at: None,
        photo: None,
        door_card: None,
    };
    assert!(matches!(ask(&e, fail), Response::Recorded { .. }));
    let Response::Outbox(mut v) = ask(&e, Request::Outbox) else { panic!("outbox") };
    assert_eq!(v.lines.len(), 1);
    assert_eq!(v.lines[0].status, "pending");
    let html = render(Lang::ZhCn, What::Outbox(v.clone()));
    assert_eq!(html.matches("data-testid=\"outbox-row\"").count(), 1);
    assert!(html.contains("data-status=\"pending\"") && html.contains("待发送"), "{html}");
    // The same line refused by the centre.
    v.lines[0].status = "rejected".into();
    v.lines[0].reason = Some("not_your_task: task 12 was never assigned to this staff member".into());
    let html = render(Lang::En, What::Outbox(v.clone()));
    assert!(html.contains("task 12 was never assigned") && html.contains("Ask the coordinator"), "{html}");
    let html = render(Lang::ZhCn, What::Outbox(v));
    assert!(html.contains("中心拒绝：这件任务没有分派给你。") && html.contains("请联系协调员"), "{html}");
}

#[test]
fn the_residents_screen_asks_one_question_about_their_own_item_and_shows_no_one_else() {
    use jx_engine::draft::{Draft, Step};
    let town = demo_town();
    let sheets: Vec<_> = town.tasks.iter().take(20).map(|t| town.sheet(t).expect("sheet")).collect();
    let mine = &sheets[0];
    let mut d = Draft::new(mine, DEMO_EVENING);
    d.packet = Some("JX1:x".into());
    assert_eq!(d.current(), Step::Confirm);
    let html = render(Lang::ZhCn, What::Resident(Box::new(d.clone())));
    assert!(html.contains("data-testid=\"resident-question\""), "{html}");
    assert!(html.contains(&mine.service_item_name), "says what is handed over");
    assert!(html.contains("data-testid=\"resident-code-input\""), "one question: the code");
    assert!(!html.contains("resident-rate-"), "not the rating at the same time");
    assert!(html.contains("data-testid=\"no-voice\""), "no voice off the web, and it says so");
    assert!(html.contains("data-testid=\"resident-way-card\""), "a household card on file is offered");
    assert!(
        html.contains("data-testid=\"resident-way-proxy-7\"") && html.contains("李** (女儿)"),
        "the family member, masked"
    );
    for other in &sheets[1..] {
        assert!(!html.contains(&other.resident_name), "another resident's name on the resident's screen");
        assert!(!html.contains(&other.resident_phone));
    }
    d.confirmation = Some(jx_core::event::Confirmation::ResidentCode { code: "123456".into() });
    d.photos.push(jx_engine::draft::PhotoRef { sha256: jx_core::bytes::Sha256::of(b"p"), thumb: String::new() });
    assert_eq!(d.current(), Step::Rating);
    let html = render(Lang::ZhCn, What::Resident(Box::new(d)));
    assert_eq!(html.matches("data-testid=\"resident-rate-").count(), 5, "{html}");
    assert!(!html.contains("resident-code-input"));
}
