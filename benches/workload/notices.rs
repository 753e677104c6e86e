//! Plausible public-safety notices from a seeded generator, for the search and digest
//! benchmarks: the frauds the anti-fraud centre warns of (刷单返利, 冒充公检法, 虚假投资理财,
//! 杀猪盘, 冒充客服退款, 虚假贷款), road closures, missing persons and appeals for
//! witnesses, weather warnings, fire safety, public order and office hours, in Chinese or
//! English (as `locales/demo-notices.toml` writes them). Roads, districts, sums, ages and
//! dates vary, so the index holds the spread of tokens a real year of notices would; the
//! same seed gives the same notices.

use chrono::{DateTime, Duration, Utc};
use pingan::domain::{
    Actor, Area, Body, Category, DistrictKey, DistrictSet, Language, NewNotice, NoticeContent, Publication,
    Severity, Source, Title,
};

/// Districts as (key, Chinese, English); the first three are `locales/demo-districts.toml`'s.
const DISTRICTS: [(&str, &str, &str); 6] = [
    ("chengdong", "城东区", "Chengdong District"),
    ("chengxi", "城西区", "Chengxi District"),
    ("gaoxin", "高新区", "Hi-Tech Zone"),
    ("", "滨江区", "Binjiang District"),
    ("", "开发区", "the Development Zone"),
    ("", "老城区", "the Old Town"),
];
const ROADS: [(&str, &str); 12] = [
    ("人民路", "Renmin Road"),
    ("解放路", "Jiefang Road"),
    ("新华路", "Xinhua Road"),
    ("中山路", "Zhongshan Road"),
    ("建设路", "Jianshe Road"),
    ("和平路", "Heping Road"),
    ("文化路", "Wenhua Road"),
    ("东风路", "Dongfeng Road"),
    ("滨江大道", "Binjiang Avenue"),
    ("环城北路", "North Ring Road"),
    ("青年路", "Qingnian Road"),
    ("学院路", "Xueyuan Road"),
];
const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
const CLOTHES: [(&str, &str); 6] = [
    ("蓝色羽绒服", "a blue down jacket"),
    ("灰色外套", "a grey coat"),
    ("红色毛衣", "a red sweater"),
    ("黑色夹克", "a black jacket"),
    ("白色运动服", "a white tracksuit"),
    ("绿色棉袄", "a green padded coat"),
];
const APPS: [(&str, &str); 5] = [
    ("某投资APP", "an investment app"),
    ("USDT虚拟币平台", "a USDT crypto platform"),
    ("境外理财网站", "an overseas wealth-management site"),
    ("所谓内部群", "a so-called insiders' group"),
    ("仿冒证券APP", "a fake brokerage app"),
];
const WARNING_LEVELS: [(&str, &str); 4] =
    [("蓝色", "blue"), ("黄色", "yellow"), ("橙色", "orange"), ("红色", "red")];

/// What a generated notice is about, before it is written in a language.
struct Facts {
    district: usize,
    road: usize,
    other_road: usize,
    surname: usize,
    clothes: usize,
    app: usize,
    /// Ten thousands of yuan (万元).
    wan: u32,
    count: u32,
    age: u32,
    height: u32,
    month: u32,
    day: u32,
    days: u32,
    level: usize,
}

impl Facts {
    fn new(rng: &mut fastrand::Rng) -> Facts {
        Facts {
            district: rng.usize(..DISTRICTS.len()),
            road: rng.usize(..ROADS.len()),
            other_road: rng.usize(..ROADS.len()),
            surname: rng.usize(..SURNAMES.len()),
            clothes: rng.usize(..CLOTHES.len()),
            app: rng.usize(..APPS.len()),
            wan: rng.u32(2..=480),
            count: rng.u32(3..=260),
            age: rng.u32(6..=86),
            height: rng.u32(110..=182),
            month: rng.u32(1..=12),
            day: rng.u32(1..=28),
            days: rng.u32(2..=30),
            level: rng.usize(..WARNING_LEVELS.len()),
        }
    }

    fn district(&self, language: Language) -> &'static str {
        let (_, zh, en) = DISTRICTS[self.district];
        if language == Language::Zh { zh } else { en }
    }

    fn road(&self, which: usize, language: Language) -> &'static str {
        let (zh, en) = ROADS[which];
        if language == Language::Zh { zh } else { en }
    }

    fn districts(&self) -> DistrictSet {
        let key = DISTRICTS[self.district].0;
        DistrictKey::parse(key).into_iter().collect()
    }
}

/// A notice's text, before it is checked.
struct Written {
    category: Category,
    severity: Severity,
    title: String,
    body: String,
    source: (&'static str, &'static str),
    districts: DistrictSet,
}

const ANTI_FRAUD: (&str, &str) = ("市反诈中心", "City Anti-Fraud Centre");
const TRAFFIC: (&str, &str) = ("市公安局交通警察支队", "City Traffic Police");
const BUREAU: (&str, &str) = ("市公安局", "City Public Security Bureau");
const WEATHER: (&str, &str) = ("市气象台", "City Meteorological Observatory");
const FIRE: (&str, &str) = ("市消防救援支队", "City Fire and Rescue");

/// One notice's text in `language`, of a theme drawn from `rng`.
fn write(rng: &mut fastrand::Rng, language: Language) -> Written {
    let f = Facts::new(rng);
    let zh = language == Language::Zh;
    let d = f.district(language);
    let road = f.road(f.road, language);
    let other = f.road(f.other_road, language);
    let (app_zh, app_en) = APPS[f.app];
    let (clothes_zh, clothes_en) = CLOTHES[f.clothes];
    let (level_zh, level_en) = WARNING_LEVELS[f.level];
    let name = SURNAMES[f.surname];
    let (wan, count, age, height, month, day, days) =
        (f.wan, f.count, f.age, f.height, f.month, f.day, f.days);
    let fraud = |title: String, body: String| Written {
        category: Category::Fraud,
        severity: if wan > 300 { Severity::Moderate } else { Severity::Minor },
        title,
        body,
        source: ANTI_FRAUD,
        districts: DistrictSet::new(),
    };
    match rng.usize(0..14) {
        0 => fraud(
            if zh {
                format!("警惕刷单返利诈骗：{d}一市民被骗{wan}万元")
            } else {
                format!("Order-brushing scam: a {d} resident lost {wan}0,000 yuan")
            },
            if zh {
                format!(
                    "近日，{d}居民{name}某在网上看到“动动手指日赚{count}0元”的兼职广告，按对方要求下载{app_zh}做任务。\
                     前几单收到小额返利后，对方以“连单”“卡单”为由要求垫付大额资金，{name}某累计被骗{wan}万元。\n\n\
                     警方提示：凡是要求先垫钱的刷单、点赞、关注兼职都是诈骗。拿不准时拨打 96110 咨询。"
                )
            } else {
                format!(
                    "A resident of {d} answered an online advert promising {count}0 yuan a day for liking and \
                     reviewing goods, and installed {app_en} to take tasks. After small commissions on the first \
                     orders, they were told to pay in ever larger sums to “unlock” their earnings, and lost \
                     {wan}0,000 yuan in all.\n\nAny job that makes you pay first is a scam: order brushing is \
                     fraud. When unsure, call 96110."
                )
            },
        ),
        1 => fraud(
            if zh {
                "接到自称“公检法”的电话要求转账到“安全账户”，一定是诈骗".to_owned()
            } else {
                "Calls from “police” asking you to move money to a “safe account” are always fraud".to_owned()
            },
            if zh {
                format!(
                    "诈骗分子冒充公安、检察院、法院工作人员，称市民涉嫌洗钱，要求配合“资金审查”，\
                     并通过视频出示伪造的通缉令。{d}一名{age}岁市民因此向所谓“安全账户”转账{wan}万元。\n\n\
                     公检法机关不会通过电话办案，更没有“安全账户”。接到此类电话请立即挂断，拨打 110 核实。"
                )
            } else {
                format!(
                    "Fraudsters posing as police, prosecutors or judges tell people they are suspected of money \
                     laundering and show forged warrants on video. A {age}-year-old in {d} moved {wan}0,000 yuan \
                     to a so-called safe account.\n\nThe police never handle cases by phone and there is no \
                     “safe account”. Hang up and call 110."
                )
            },
        ),
        2 => fraud(
            if zh {
                format!("虚假投资理财诈骗高发，{d}警方捣毁窝点抓获{count}人")
            } else {
                format!("Fake investment platforms: police in {d} arrest {count} suspects")
            },
            if zh {
                format!(
                    "犯罪团伙通过短视频和群聊推荐“稳赚不赔”的{app_zh}，先让受害人小额获利，再诱导追加投入后关闭提现。\
                     {month}月{day}日，{d}警方收网，抓获犯罪嫌疑人{count}名，涉案金额{wan}万元。\n\n\
                     投资理财请认准正规金融机构，“高收益、零风险”就是诈骗。"
                )
            } else {
                format!(
                    "Gangs advertise “risk-free” returns in short videos and chat groups, steer victims to \
                     {app_en}, let them win small sums, then block withdrawals once they invest more. On \
                     {month}/{day}, police in {d} arrested {count} suspects in a case worth {wan}0,000 yuan.\n\n\
                     Invest only through licensed institutions: high returns with no risk is fraud."
                )
            },
        ),
        3 => fraud(
            if zh {
                "网恋对象带你“投资”？小心“杀猪盘”".to_owned()
            } else {
                "An online partner who wants you to invest? Beware the pig-butchering scam".to_owned()
            },
            if zh {
                format!(
                    "“杀猪盘”诈骗分子在婚恋网站和社交软件上包装成成功人士，与受害人培养感情{days}天后，\
                     推荐其在{app_zh}“投资”。{d}一名{age}岁女士先后转账{wan}万元后发现无法提现。\n\n\
                     未见面的网友推荐投资、博彩，都是诈骗。"
                )
            } else {
                format!(
                    "In pig-butchering scams, fraudsters pose as successful people on dating sites and social \
                     apps, build trust for {days} days, then recommend investing through {app_en}. A \
                     {age}-year-old woman in {d} transferred {wan}0,000 yuan before finding she could not \
                     withdraw.\n\nAn online friend you have never met who recommends investing or betting is a \
                     scammer."
                )
            },
        ),
        4 => fraud(
            if zh {
                "冒充客服以“退款理赔”为名实施诈骗，请勿屏幕共享".to_owned()
            } else {
                "Fake customer service offering refunds: never share your screen".to_owned()
            },
            if zh {
                format!(
                    "诈骗分子冒充电商或快递客服，称商品质量问题可双倍退款，诱导市民下载会议软件并开启屏幕共享，\
                     进而获取银行卡验证码。今年以来{d}已发生此类案件{count}起。\n\n\
                     正规客服不会要求屏幕共享，也不会索要验证码。"
                )
            } else {
                format!(
                    "Fraudsters pose as shop or courier customer service, promise a double refund for a faulty \
                     item, and ask people to install a meeting app and share their screen to read bank \
                     verification codes. {count} such cases have been reported in {d} this year.\n\nReal customer \
                     service never needs your screen or your verification code."
                )
            },
        ),
        5 => fraud(
            if zh {
                "“无抵押、低利息、秒到账”贷款要先交保证金？是诈骗".to_owned()
            } else {
                "A loan that needs a deposit first is a scam".to_owned()
            },
            if zh {
                format!(
                    "诈骗分子以“无抵押低息贷款”为诱饵，以解冻费、保证金、刷流水为由要求受害人先转账。\
                     {d}一名市民先后转出{wan}万元，贷款一分未到。\n\n正规贷款放款前不收取任何费用。"
                )
            } else {
                format!(
                    "Fraudsters offer cheap loans with no collateral, then ask for an unfreezing fee, a deposit \
                     or “turnover” first. A resident of {d} paid {wan}0,000 yuan and never got a loan.\n\n\
                     Licensed lenders charge nothing before a loan is paid out."
                )
            },
        ),
        6 => Written {
            category: Category::Traffic,
            severity: Severity::Minor,
            title: if zh {
                format!("{d}{road}{month}月{day}日起夜间封闭施工，请绕行")
            } else {
                format!("{road} in {d} closed at night from {month}/{day} for works: please detour")
            },
            body: if zh {
                format!(
                    "因管网改造，{road}{other}至路口段自{month}月{day}日起每晚 22 时至次日 6 时封闭施工，为期{days}天。\n\n\
                     请过往车辆提前绕行{other}，服从现场交警指挥。"
                )
            } else {
                format!(
                    "For pipe works, {road} is closed at its junction with {other} from 22:00 to 06:00 every \
                     night for {days} days from {month}/{day}.\n\nPlease take {other} instead and follow the \
                     directions of traffic officers on site."
                )
            },
            source: TRAFFIC,
            districts: f.districts(),
        },
        7 => Written {
            category: Category::Traffic,
            severity: Severity::Moderate,
            title: if zh {
                format!("{month}月{day}日城市马拉松期间{road}等道路交通管制")
            } else {
                format!("Road closures for the city marathon on {month}/{day}, {road} among them")
            },
            body: if zh {
                format!(
                    "{month}月{day}日 6 时至 14 时，{road}、{other}及沿线路口实行交通管制，禁止机动车通行。\n\n\
                     请市民合理安排出行，乘坐地铁或公交；管制期间请听从交警指挥。"
                )
            } else {
                format!(
                    "On {month}/{day}, from 06:00 to 14:00, {road}, {other} and the junctions along them are \
                     closed to motor vehicles for the marathon.\n\nPlease plan ahead and take the metro or \
                     buses, and follow the directions of traffic officers."
                )
            },
            source: TRAFFIC,
            districts: DistrictSet::new(),
        },
        8 => Written {
            category: Category::Appeal,
            severity: Severity::Moderate,
            title: if zh {
                format!("寻人启事：{age}岁{name}某在{d}{road}附近走失")
            } else {
                format!("Missing person: {age}-year-old last seen near {road}, {d}")
            },
            body: if zh {
                format!(
                    "{name}某，{age}岁，身高约{height}厘米，{month}月{day}日下午在{road}附近走失，\
                     走失时身穿{clothes_zh}，说话带本地口音。\n\n如有线索，请拨打 110 或联系{d}派出所。"
                )
            } else {
                format!(
                    "{name}, aged {age}, about {height} cm tall, went missing near {road} on the afternoon of \
                     {month}/{day}, wearing {clothes_en}.\n\nIf you have seen them, call 110 or contact the \
                     {d} police station."
                )
            },
            source: BUREAU,
            districts: f.districts(),
        },
        9 => Written {
            category: Category::Appeal,
            severity: Severity::Minor,
            title: if zh {
                format!("征集{road}与{other}路口交通事故目击证人")
            } else {
                format!("Witnesses wanted: collision at {road} and {other}")
            },
            body: if zh {
                format!(
                    "{month}月{day}日晚，{road}与{other}交叉路口发生一起交通事故，肇事车辆逃逸。\
                     请目击者或有行车记录仪录像的市民与交警{d}大队联系。"
                )
            } else {
                format!(
                    "On the evening of {month}/{day} a driver left the scene of a collision at {road} and \
                     {other}. Witnesses, and drivers with dashcam footage, please contact the {d} traffic \
                     police."
                )
            },
            source: TRAFFIC,
            districts: f.districts(),
        },
        10 => Written {
            category: Category::Disaster,
            severity: match f.level {
                3 => Severity::Extreme,
                2 => Severity::Severe,
                _ => Severity::Moderate,
            },
            title: if zh {
                format!("暴雨{level_zh}预警：请减少外出，远离低洼地带")
            } else {
                format!("Rainstorm {level_en} warning: stay in and keep away from low-lying areas")
            },
            body: if zh {
                format!(
                    "市气象台{month}月{day}日发布暴雨{level_zh}预警，预计未来 6 小时{d}降雨量可达{count}毫米。\n\n\
                     请勿在地下通道、涵洞停留，车辆不要涉水通行；如遇险情请拨打 110 或 119。"
                )
            } else {
                format!(
                    "The observatory issued a {level_en} rainstorm warning on {month}/{day}: up to {count} mm of \
                     rain in {d} in the next six hours.\n\nDo not stay in underpasses, do not drive through \
                     flood water, and call 110 or 119 in danger."
                )
            },
            source: WEATHER,
            districts: f.districts(),
        },
        11 => Written {
            category: Category::Fire,
            severity: Severity::Moderate,
            title: if zh {
                "电动自行车严禁入户充电，谨防火灾".to_owned()
            } else {
                "Never charge e-bikes indoors".to_owned()
            },
            body: if zh {
                format!(
                    "今年以来全市发生电动自行车火灾{count}起，多起因楼道、室内充电引发。\n\n\
                     请到集中充电点充电，不要私拉电线，离家和睡觉前请断电。"
                )
            } else {
                format!(
                    "{count} e-bike fires have broken out in the city this year, many from charging in \
                     stairwells and homes.\n\nUse the shared charging points, do not run cables from windows, \
                     and unplug before going out or to bed."
                )
            },
            source: FIRE,
            districts: DistrictSet::new(),
        },
        12 => Written {
            category: Category::PublicOrder,
            severity: Severity::Minor,
            title: if zh {
                format!("{d}打击电动车盗窃专项行动破案{count}起")
            } else {
                format!("{d} crackdown on e-bike theft solves {count} cases")
            },
            body: if zh {
                format!(
                    "{d}公安分局开展为期{days}天的专项行动，破获盗窃电动车案件{count}起，追回车辆{days}辆。\n\n\
                     请市民停车时加装车锁，停放在有监控的地方。"
                )
            } else {
                format!(
                    "A {days}-day operation by the {d} police solved {count} e-bike thefts and recovered \
                     {days} bikes.\n\nUse a second lock and park where cameras can see."
                )
            },
            source: BUREAU,
            districts: f.districts(),
        },
        _ => Written {
            category: Category::General,
            severity: Severity::Unknown,
            title: if zh {
                format!("{month}月{day}日起出入境、户籍窗口办理时间调整")
            } else {
                format!("New opening hours for exit-entry and household registration from {month}/{day}")
            },
            body: if zh {
                format!(
                    "自{month}月{day}日起，{d}出入境和户籍业务窗口周六上午照常办理，工作日延长至 18 时。\n\n\
                     可通过“警民通”APP预约，减少等候。"
                )
            } else {
                format!(
                    "From {month}/{day}, the exit-entry and household registration counters in {d} open on \
                     Saturday mornings and stay open until 18:00 on weekdays.\n\nBook ahead in the police \
                     services app to avoid queues."
                )
            },
            source: BUREAU,
            districts: DistrictSet::new(),
        },
    }
}

/// Options for [`generate`].
pub struct Generate {
    /// Share of notices in Chinese (the rest English).
    pub chinese_share: f64,
    /// Whether Severe and Extreme notices may be drawn (else they are Moderate): the digest
    /// benchmark leaves them out, as the scheduler would alert them as they are published.
    pub urgent: bool,
    /// Publication times are drawn evenly from `from` to `until`.
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// The time the notices are written (their `created_at`).
    pub now: DateTime<Utc>,
}

/// Notices drawn one after another from a seed.
pub struct Generator {
    rng: fastrand::Rng,
    options: Generate,
}

impl Generator {
    pub fn new(seed: u64, options: Generate) -> Generator {
        Generator { rng: fastrand::Rng::with_seed(seed), options }
    }

    /// The next notice.
    pub fn notice(&mut self) -> NewNotice {
        let (rng, options) = (&mut self.rng, &self.options);
        let span = (options.until - options.from).num_seconds().max(1);
        let language = if rng.f64() < options.chinese_share { Language::Zh } else { Language::En };
        let w = write(rng, language);
        let severity =
            if !options.urgent && w.severity.is_urgent() { Severity::Moderate } else { w.severity };
        let (source_zh, source_en) = w.source;
        let zh = language == Language::Zh;
        let area = match w.districts.first() {
            Some(key) => DISTRICTS.iter().find(|(k, _, _)| *k == key.as_str()).map(|(_, z, e)| (*z, *e)),
            None => Some(("全市", "City-wide")),
        };
        let content = NoticeContent {
            title: Title::parse(&w.title).expect("a generated title"),
            body: Body::parse(&w.body).expect("a generated body"),
            category: w.category,
            severity,
            area: area.map(|(z, e)| Area::parse(if zh { z } else { e }).expect("an area")),
            language,
            source: Some(Source::parse(if zh { source_zh } else { source_en }).expect("a source")),
            districts: w.districts,
        };
        let at = options.from + Duration::seconds(rng.i64(0..=span));
        NewNotice::new(content, Publication::At(at), None, Actor::System, options.now)
            .expect("a generated notice")
    }

    /// The next `n` notices.
    pub fn notices(&mut self, n: usize) -> Vec<NewNotice> {
        (0..n).map(|_| self.notice()).collect()
    }
}
