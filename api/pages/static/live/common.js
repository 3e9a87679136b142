// Shared by the board and tracking pages: the page's language, GraphQL over HTTP, login, and a self-healing
// live subscription. Plain browser JavaScript, no build step; the websocket protocol comes from the vendored
// graphql-ws client.
"use strict";

const Courtyard = (() => {
  const TOKEN_KEY = "courtyard.token";

  // The project's locale decides the language: zh-CN, the default of every project, unless the address
  // asks for another one the pages speak (`?lang=en`).
  const LOCALES = ["zh-CN", "en"];
  const locale = (() => {
    const asked = new URLSearchParams(location.search).get("lang");
    return LOCALES.includes(asked) ? asked : LOCALES[0];
  })();
  document.documentElement.lang = locale;

  // Texts both pages use: the API's vocabulary, error codes, the live badge, the login form, durations.
  // A text is a string with {placeholders} or a function of the parameters.
  const SHARED = {
    "zh-CN": {
      "language.other": "English",
      "login.email": "邮箱",
      "login.password": "密码",
      "login.submit": "登录",
      "live.offline": "离线",
      "live.connecting": "连接中",
      "live.live": "实时",
      "live.reconnecting": "重连中",
      "live.stopped": "已断开",
      "live.stoppedHint": "{problem}请刷新页面重新登录。",
      "error.BAD_USER_INPUT": "输入有误，未能完成。",
      "error.NOT_FOUND": "没有找到，或您无权查看。",
      "error.CONFLICT": "工单状态已变化，操作未完成，请看最新状态。",
      "error.IN_ARREARS": "该户欠费超过限额，非紧急报修暂不受理；缴清欠费后即可报修。",
      "error.INVALID_CREDENTIALS": "邮箱或密码不正确。",
      "error.UNAUTHENTICATED": "登录已失效。",
      "error.FORBIDDEN": "您的账号无权执行此操作。",
      "error.RATE_LIMITED": "尝试次数太多，请稍后再试。",
      "error.SERVICE_UNAVAILABLE": "服务暂时不可用，请稍后再试。",
      "error.NETWORK": "连不上服务器，请检查网络后再试。",
      "error.other": "操作未成功。",
      "duration.seconds": "{s}秒",
      "duration.minutes": "{m}分钟",
      "duration.hours": "{h}小时{m}分",
      "status.TRIAGE": "待分类",
      "status.NEW": "待派单",
      "status.ASSIGNED": "已派单",
      "status.ACCEPTED": "已接单",
      "status.ON_SITE": "已到场",
      "status.IN_PROGRESS": "维修中",
      "status.WAITING_FOR_OWNER": "等待业主",
      "status.RESOLVED": "已修好",
      "status.CLOSED": "已完成",
      "status.REOPENED": "重新报修",
      "status.CANCELLED": "已取消",
      "priority.URGENT": "紧急",
      "priority.HIGH": "较急",
      "priority.NORMAL": "普通",
      "priority.LOW": "不急",
      "category.PLUMBING": "水路",
      "category.ELECTRICAL": "电路",
      "category.HVAC": "空调暖通",
      "category.ELEVATOR": "电梯",
      "category.FIRE_SAFETY": "消防",
      "category.LOCKSMITH": "门锁",
      "category.CLEANING": "保洁",
      "category.APPLIANCE": "家电",
      "category.GENERAL": "综合维修",
      "location.UNIT": "室内",
      "location.LOBBY": "大堂",
      "location.LIFT": "电梯",
      "location.CAR_PARK": "停车场",
      "location.CORRIDOR": "走廊",
      "location.STAIRWELL": "楼梯间",
      "location.GARDEN": "花园",
      "location.ROOF": "屋顶",
      "location.PLANT_ROOM": "设备间",
      "location.OTHER": "其他",
    },
    en: {
      "language.other": "中文",
      "login.email": "Email",
      "login.password": "Password",
      "login.submit": "Log in",
      "live.offline": "offline",
      "live.connecting": "connecting",
      "live.live": "live",
      "live.reconnecting": "reconnecting",
      "live.stopped": "stopped",
      "live.stoppedHint": "{problem} Reload the page to log in again.",
      "error.BAD_USER_INPUT": "That input was not accepted.",
      "error.NOT_FOUND": "Not found, or not yours to see.",
      "error.CONFLICT": "The ticket changed meanwhile; nothing was done. Look at its current state.",
      "error.IN_ARREARS": "This home's overdue fees are above the limit: non-urgent repairs wait until they are paid.",
      "error.INVALID_CREDENTIALS": "Wrong email or password.",
      "error.UNAUTHENTICATED": "Your login has expired.",
      "error.FORBIDDEN": "Your account may not do this.",
      "error.RATE_LIMITED": "Too many attempts; try again later.",
      "error.SERVICE_UNAVAILABLE": "The service is briefly unavailable; try again shortly.",
      "error.NETWORK": "The server cannot be reached; check the network and try again.",
      "error.other": "That did not work.",
      "duration.seconds": "{s} s",
      "duration.minutes": "{m} min",
      "duration.hours": "{h} h {mm} min",
      "status.TRIAGE": "Triage",
      "status.NEW": "New",
      "status.ASSIGNED": "Assigned",
      "status.ACCEPTED": "Accepted",
      "status.ON_SITE": "On site",
      "status.IN_PROGRESS": "In progress",
      "status.WAITING_FOR_OWNER": "Waiting for owner",
      "status.RESOLVED": "Resolved",
      "status.CLOSED": "Closed",
      "status.REOPENED": "Reopened",
      "status.CANCELLED": "Cancelled",
      "priority.URGENT": "urgent",
      "priority.HIGH": "high",
      "priority.NORMAL": "normal",
      "priority.LOW": "low",
      "category.PLUMBING": "plumbing",
      "category.ELECTRICAL": "electrical",
      "category.HVAC": "HVAC",
      "category.ELEVATOR": "lift",
      "category.FIRE_SAFETY": "fire safety",
      "category.LOCKSMITH": "locks",
      "category.CLEANING": "cleaning",
      "category.APPLIANCE": "appliances",
      "category.GENERAL": "general",
      "location.UNIT": "unit",
      "location.LOBBY": "lobby",
      "location.LIFT": "lift",
      "location.CAR_PARK": "car park",
      "location.CORRIDOR": "corridor",
      "location.STAIRWELL": "stairwell",
      "location.GARDEN": "garden",
      "location.ROOF": "roof",
      "location.PLANT_ROOM": "plant room",
      "location.OTHER": "elsewhere",
    },
  };

  function translator(table) {
    const t = (key, params = {}) => {
      const text = table[key];
      if (text === undefined) {
        // A missing text is a bug; the end-to-end tests fail on console errors.
        console.error(`Courtyard: no ${locale} text for ${key}`);
        return key;
      }
      return typeof text === "function" ? text(params) : text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
    };
    t.has = (key) => table[key] !== undefined;
    return t;
  }

  const shared = translator(SHARED[locale]);

  // The page's `t(key, params)`: its own texts for the page's locale, then the shared ones.
  function texts(own) {
    return translator({ ...SHARED[locale], ...own[locale] });
  }

  // Fill the page's fixed texts: `data-text` sets the content, `data-text-<attribute>` an attribute.
  function translatePage(t) {
    for (const element of document.querySelectorAll("*")) {
      for (const { name, value } of [...element.attributes]) {
        if (name === "data-text") element.textContent = t(value);
        else if (name.startsWith("data-text-")) element.setAttribute(name.slice("data-text-".length), t(value));
      }
    }
    const other = document.getElementById("language");
    if (other) {
      const address = new URL(location.href);
      address.searchParams.set("lang", LOCALES.find((code) => code !== locale));
      other.href = address.pathname + address.search;
    }
  }

  // API errors are English with a stable code; people read the code's text in their own language.
  class GraphQLFailure extends Error {
    constructor(errors) {
      super(errors.map((e) => e.message).join("; "));
      this.codes = errors.map((e) => (e.extensions || {}).code);
    }
  }

  // A mutation's typed error result (`... on Error { code message }`), thrown.
  class Refused extends Error {
    constructor(result) {
      super(result.message);
      this.codes = [result.code];
    }
  }

  // A problem the page itself describes, already in the reader's language.
  class Notice extends Error {}

  // What to tell the reader about a failure. One without a code is a bug of the page: it goes to the console.
  function problem(error) {
    if (error instanceof Notice) return error.message;
    const code = (error.codes || []).find((candidate) => shared.has(`error.${candidate}`));
    if (code) return shared(`error.${code}`);
    console.error(error);
    return shared("error.other");
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function forget() {
    sessionStorage.removeItem(TOKEN_KEY);
  }

  async function gql(query, variables = {}) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    const current = token();
    if (current) headers.Authorization = `Bearer ${current}`;
    let response;
    try {
      response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    } catch {
      throw Object.assign(new Error("The server cannot be reached."), { codes: ["NETWORK"] });
    }
    const body = await response.json();
    if (body.errors && body.errors.length) throw new GraphQLFailure(body.errors);
    return body.data;
  }

  const LOGIN = `mutation($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      __typename ... on AuthPayload { token } ... on Error { code message }
    }
  }`;

  async function login(email, password) {
    const { login: result } = await gql(LOGIN, { email, password });
    if (result.__typename !== "AuthPayload") throw new Refused(result);
    sessionStorage.setItem(TOKEN_KEY, result.token);
    return result.token;
  }

  // Wire a <form> with email/password inputs to log in, then call `onReady`; skip it when a token is kept.
  function loginForm(form, onReady) {
    const failure = form.querySelector(".login-error");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      failure.textContent = "";
      try {
        await login(form.elements.email.value.trim(), form.elements.password.value);
        form.hidden = true;
        await onReady();
      } catch (error) {
        failure.textContent = problem(error);
      }
    });
    if (token()) {
      form.hidden = true;
      onReady().catch((error) => {
        forget();
        form.hidden = false;
        failure.textContent = problem(error);
      });
    }
  }

  // One websocket per page. graphql-ws reconnects by itself (with growing pauses) after a network drop or a
  // server restart, re-reading the token and re-sending every active subscription.
  function liveClient(onStatus) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const client = graphqlWs.createClient({
      url: `${scheme}://${location.host}/graphql`,
      connectionParams: () => ({ authorization: `Bearer ${token()}` }),
      retryAttempts: Infinity,
      shouldRetry: () => true,
      retryWait: async (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** retries, 4000))),
      keepAlive: 10000,
      on: {
        connecting: () => onStatus("connecting"),
        connected: () => onStatus("live"),
        closed: () => onStatus("reconnecting"),
      },
    });
    return client;
  }

  // The badge that says whether the page is live.
  function liveBadge(badge) {
    return (status) => {
      badge.dataset.status = status;
      badge.textContent = shared(`live.${status}`);
    };
  }

  // Follow a subscription whose variables include `afterSeq`. graphql-ws re-sends this very payload object on
  // every reconnect, so moving `afterSeq` along as events arrive makes a reconnect replay exactly what was
  // missed. Events at or before the last seq seen are ignored, should one ever come twice.
  function follow(client, query, variables, { onEvent, onError }) {
    const payload = { query, variables: { ...variables } };
    return client.subscribe(payload, {
      next(message) {
        if (message.errors && message.errors.length) {
          onError(new GraphQLFailure(message.errors));
          return;
        }
        const event = Object.values(message.data)[0];
        if (payload.variables.afterSeq != null && event.seq <= payload.variables.afterSeq) return;
        payload.variables.afterSeq = event.seq;
        onEvent(event);
      },
      error(error) {
        onError(Array.isArray(error) ? new GraphQLFailure(error) : error);
      },
      complete() {},
    });
  }

  function escape(text) {
    return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  function clock(date, timeZone) {
    return new Intl.DateTimeFormat(locale, { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(date);
  }

  // "3小时5分" / "3 h 05 min", "12分钟", "40秒": durations for ages and countdowns.
  function duration(milliseconds) {
    const seconds = Math.max(0, Math.round(Math.abs(milliseconds) / 1000));
    if (seconds < 60) return shared("duration.seconds", { s: seconds });
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return shared("duration.minutes", { m: minutes });
    const m = minutes % 60;
    return shared("duration.hours", { h: Math.floor(minutes / 60), m, mm: String(m).padStart(2, "0") });
  }

  return {
    GraphQLFailure,
    Notice,
    Refused,
    clock,
    duration,
    escape,
    follow,
    forget,
    gql,
    liveBadge,
    liveClient,
    locale,
    login,
    loginForm,
    problem,
    texts,
    token,
    translatePage,
  };
})();
