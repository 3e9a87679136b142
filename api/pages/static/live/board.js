// The dispatcher board: tickets by status, technicians, a map, assignment and re-optimisation, all live.
"use strict";

(() => {
  const { Notice, Refused, duration, escape, follow, gql, liveBadge, liveClient, loginForm, problem } = Courtyard;

  const t = Courtyard.texts({
    "zh-CN": {
      "page.title": "Courtyard · 派单看板",
      "page.heading": "派单看板",
      "login.title": "调度员登录",
      "board.columns": "按状态排列的工单",
      "board.notDispatcher": "此账号不是任何项目的调度员或管理员。",
      "technicians.title": "维修师傅",
      "technicians.onShift": "在班",
      "technicians.offShift": "休班",
      "map.title": "地图",
      "map.label": "楼栋、工单和师傅的位置",
      "map.building": "楼栋",
      "map.ticket": "工单",
      "map.technician": "师傅（空心：在图外）",
      "map.technicianTip": "{name} · {load} · 距小区 {km} 公里",
      "map.buildingTip": "{name}：{count} 张未完成工单",
      "map.ticketTip": "{place}：{status}",
      "card.assign": "派单…",
      "card.reassign": "改派…",
      "card.assignTo": "派给",
      "card.offShift": "（休班）",
      "card.cancel": "取消",
      "card.confirmCancel": "确定取消这张工单吗？",
      "card.cancelNote": "调度员在派单看板上取消",
      "card.grip": "按住拖到师傅名下即可派单",
      "drag.tray": "拖到师傅名下派单",
      "card.age": "{duration}前",
      "card.waiting": "等待业主回复",
      "card.voice": "▶ 听语音",
      "card.noVoice": "这张工单没有可播放的录音",
      "sla.respond": "响应",
      "sla.onSite": "到场",
      "sla.resolve": "完工",
      "sla.left": "{target}还剩{duration}",
      "sla.overdue": "{target}已超时{duration}",
      "sla.paused": "计时暂停（等业主）",
      "sla.done": "待业主确认",
      "plan.optimise": "一键优化",
      "plan.title": "优化方案",
      "plan.ticket": "工单",
      "plan.technician": "师傅",
      "plan.distance": "路程",
      "plan.km": "{km} 公里",
      "plan.change": "改派",
      "plan.stays": "不变",
      "plan.changes": "{moves} 张工单改派，{stays} 张不变。",
      "plan.best": "现在的派单已是最优方案。",
      "plan.discard": "放弃",
      "plan.apply": "应用方案",
      "plan.unassigned": "{place}：{reason}",
      "unassignable.NO_TECHNICIAN_WITH_SKILL": "没有具备「{skill}」技能的师傅",
      "unassignable.NONE_ON_SHIFT": "具备「{skill}」技能的师傅都不在班",
      "unassignable.ALL_AT_CAPACITY": "具备「{skill}」技能的在班师傅都已满单",
      "map.route": "今日路线（数字为顺序）",
      "route.stopTip": "{name} 第{number}站 · {starts}–{ends}",
      "route.detail": "{name} 第{number}站：{place}，{starts}–{ends}。{reasons}",
      "route.lineTip": "{name}：{count} 站",
      "reason.UNDER_WAY": "师傅正在现场",
      "reason.NEXT": "师傅正在前往",
      "reason.PINNED": "调度员已指定",
      "reason.ASSIGNED": "已派给该师傅",
      "reason.SKILL": "具备{skill}技能",
      "reason.OWNER_WINDOW": "在业主方便的时间内上门",
      "reason.WAITS_FOR_OWNER": "提前到达，等候业主{minutes}分钟",
      "reason.SLA_ON_TIME": "比上门时限提前{minutes}分钟",
      "reason.SLA_LATE": "超出上门时限{minutes}分钟",
    },
    en: {
      "page.title": "Courtyard · dispatch board",
      "page.heading": "Dispatch board",
      "login.title": "Dispatcher login",
      "board.columns": "Tickets by status",
      "board.notDispatcher": "This login is not a dispatcher or admin of any project.",
      "technicians.title": "Technicians",
      "technicians.onShift": "on shift",
      "technicians.offShift": "off shift",
      "map.title": "Map",
      "map.label": "Buildings, tickets and technicians",
      "map.building": "building",
      "map.ticket": "ticket",
      "map.technician": "technician (hollow: further out)",
      "map.technicianTip": "{name} · {load} · {km} km away",
      "map.buildingTip": "{name}: {count} open ticket(s)",
      "map.ticketTip": "{place}: {status}",
      "card.assign": "Assign…",
      "card.reassign": "Reassign…",
      "card.assignTo": "Assign to",
      "card.offShift": " (off shift)",
      "card.cancel": "Cancel",
      "card.confirmCancel": "Cancel this ticket?",
      "card.cancelNote": "Cancelled on the dispatch board",
      "card.grip": "Hold and drag onto a technician to assign",
      "drag.tray": "Drop on a technician to assign",
      "card.age": "{duration} ago",
      "card.waiting": "waiting for owner",
      "card.voice": "▶ Play the voice report",
      "card.noVoice": "This ticket has no recording a browser can play",
      "sla.respond": "respond",
      "sla.onSite": "on site",
      "sla.resolve": "resolve",
      "sla.left": "{target} in {duration}",
      "sla.overdue": "{target} overdue {duration}",
      "sla.paused": "SLA paused (waiting for owner)",
      "sla.done": "awaiting the owner",
      "plan.optimise": "Optimise now",
      "plan.title": "Proposed plan",
      "plan.ticket": "Ticket",
      "plan.technician": "Technician",
      "plan.distance": "Distance",
      "plan.km": "{km} km",
      "plan.change": "change",
      "plan.stays": "stays",
      "plan.changes": "{moves} change(s); {stays} ticket(s) stay where they are.",
      "plan.best": "The current assignments are already the best plan.",
      "plan.discard": "Discard",
      "plan.apply": "Apply plan",
      "plan.unassigned": "{place}: {reason}",
      "unassignable.NO_TECHNICIAN_WITH_SKILL": "no technician has the {skill} skill",
      "unassignable.NONE_ON_SHIFT": "no technician with the {skill} skill is on shift",
      "unassignable.ALL_AT_CAPACITY": "every on-shift technician with the {skill} skill is fully booked",
      "map.route": "today's route (numbers: the order)",
      "route.stopTip": "{name}, stop {number} · {starts}–{ends}",
      "route.detail": "{name}, stop {number}: {place}, {starts}–{ends}. {reasons}",
      "route.lineTip": "{name}: {count} stop(s)",
      "reason.UNDER_WAY": "the technician is on site",
      "reason.NEXT": "the technician is on the way",
      "reason.PINNED": "pinned by a dispatcher",
      "reason.ASSIGNED": "already assigned to this technician",
      "reason.SKILL": "has the {skill} skill",
      "reason.OWNER_WINDOW": "inside the owner's availability",
      "reason.WAITS_FOR_OWNER": "arrives early and waits {minutes} min for the owner",
      "reason.SLA_ON_TIME": "{minutes} min before the on-site deadline",
      "reason.SLA_LATE": "{minutes} min past the on-site deadline",
    },
  });

  const COLUMNS = ["TRIAGE", "NEW", "ASSIGNED", "ACCEPTED", "ON_SITE", "IN_PROGRESS", "RESOLVED"];
  // A reopened ticket waits among the new ones; one waiting for its owner stays with the work in progress.
  const COLUMN_OF = { REOPENED: "NEW", WAITING_FOR_OWNER: "IN_PROGRESS" };
  const OPEN = ["TRIAGE", "NEW", "ASSIGNED", "ACCEPTED", "ON_SITE", "IN_PROGRESS", "WAITING_FOR_OWNER", "RESOLVED", "REOPENED"];
  const CANCELLABLE = new Set(["TRIAGE", "NEW", "ASSIGNED", "ACCEPTED", "ON_SITE", "IN_PROGRESS", "WAITING_FOR_OWNER", "REOPENED"]);

  const TICKET = `fragment BoardTicket on Ticket {
    id status category priority version description locationKind locationDetail createdAt
    respondDueAt onSiteDueAt resolveDueAt slaState slaPausedSince
    unit { number building { id name latitude longitude } }
    building { id name latitude longitude }
    assignee { id name }
  }`;
  const VIEWER = `{ viewer { displayName roles { role project { id name timezone } } } }`;
  const TICKETS = `query($projectId: ID!, $status: [TicketStatus!], $after: String) {
    tickets(filter: { projectId: $projectId, status: $status }, first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { ...BoardTicket events { seq } } }
    }
  } ${TICKET}`;
  const TECHNICIANS = `query($projectId: ID!) {
    technicians(projectId: $projectId) {
      id name skills capacity onShift currentLoad currentLocation { latitude longitude } home { latitude longitude }
    }
  }`;
  const SETTINGS = `query($projectId: ID!) {
    dispatchSettings(projectId: $projectId) {
      warningPercent sla { priority respondMinutes onSiteMinutes resolveMinutes }
    }
  }`;
  const BUILDINGS = `query($projectId: ID!, $after: String) {
    units(projectId: $projectId, first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { building { id name latitude longitude } } }
    }
  }`;
  const BOARD = `subscription($projectId: ID!, $afterSeq: Int) {
    dispatchBoard(projectId: $projectId, afterSeq: $afterSeq) {
      seq type at actorRole ticketId ticket { ...BoardTicket }
    }
  } ${TICKET}`;
  const DAY_ROUTES = `query($projectId: ID!) {
    dayRoutes(projectId: $projectId) {
      routes { technicianId stops { ticketId startsAt endsAt reasons { code minutes skill } } }
    }
  }`;
  const ASSIGN = `mutation($ticketId: ID!, $technicianId: ID!) {
    assignTicket(ticketId: $ticketId, technicianId: $technicianId) {
      __typename ... on Ticket { id } ... on Error { code message }
    }
  }`;
  const CANCEL = `mutation($ticketId: ID!, $note: String!) {
    transitionTicket(ticketId: $ticketId, action: CANCEL, note: $note) {
      __typename ... on Ticket { id } ... on Error { code message }
    }
  }`;
  const OPTIMISE = `mutation($projectId: ID!, $apply: Boolean!) {
    optimizeDispatch(projectId: $projectId, apply: $apply) {
      __typename
      ... on DispatchPlan {
        applied totalCost
        assignments { ticketId technicianId changes cost { distanceMeters } }
        unassigned { ticketId code }
      }
      ... on Error { code message }
    }
  }`;

  const state = {
    project: null,
    tickets: new Map(),
    technicians: [],
    buildings: new Map(),
    // The project's SLA promises: minutes allowed per priority and target, and when to warn (percent).
    warningPercent: null,
    allowedMinutes: new Map(),
    // The card being dragged onto a technician, if any; the board is not redrawn under it meanwhile.
    drag: null,
    stale: false,
    // Each technician's planned route for the rest of today (dayRoutes), redrawn on the map.
    routes: [],
  };

  const $ = (selector) => document.querySelector(selector);

  function showError(message) {
    const box = $("#board-error");
    box.textContent = message;
    box.hidden = !message;
  }

  function showProblem(error) {
    showError(problem(error));
  }

  function columnOf(ticket) {
    return COLUMN_OF[ticket.status] || ticket.status;
  }

  function place(ticket) {
    const where = ticket.unit
      ? `${ticket.unit.building.name} ${ticket.unit.number}`
      : `${ticket.building ? ticket.building.name : ""} ${t(`location.${ticket.locationKind}`)}`;
    const detail = ticket.locationDetail ? ` · ${ticket.locationDetail}` : "";
    return `${where}${detail}`.trim();
  }

  function buildingOf(ticket) {
    return ticket.unit ? ticket.unit.building : ticket.building;
  }

  // The promise the ticket is racing now: a technician accepting, arriving, or finishing.
  function activeDeadline(ticket) {
    if (["TRIAGE", "NEW", "ASSIGNED", "REOPENED"].includes(ticket.status)) return ["respond", ticket.respondDueAt];
    if (ticket.status === "ACCEPTED") return ["onSite", ticket.onSiteDueAt];
    if (["ON_SITE", "IN_PROGRESS"].includes(ticket.status)) return ["resolve", ticket.resolveDueAt];
    return [null, null];
  }

  // The moment the project's SLA policy warns about a promise: `warningPercent` of the time it allows has
  // passed. Counted back from the deadline, which already includes reopenings and time waiting for the owner.
  function warningAt(ticket, target, deadline) {
    const allowed = state.allowedMinutes.get(ticket.priority)[target] * 60000;
    return deadline - (allowed * (100 - state.warningPercent)) / 100;
  }

  function slaBadge(ticket, now) {
    if (ticket.status === "WAITING_FOR_OWNER") return { level: "paused", text: t("sla.paused") };
    const [target, due] = activeDeadline(ticket);
    if (!target) return { level: "done", text: t("sla.done") };
    const deadline = new Date(due).getTime();
    const left = deadline - now;
    let level = ticket.slaState === "BREACHED" ? "breached" : ticket.slaState === "WARNING" ? "warning" : "ok";
    if (left <= 0) level = "breached";
    else if (level === "ok" && now >= warningAt(ticket, target, deadline)) level = "warning";
    const text = t(left > 0 ? "sla.left" : "sla.overdue", { target: t(`sla.${target}`), duration: duration(left) });
    return { level, text };
  }

  function technicianOptions(ticket) {
    const options = state.technicians
      .map((technician) => `<option value="${escape(technician.id)}" ${ticket.assignee && ticket.assignee.id === technician.id ? "selected" : ""}>` +
        `${escape(technician.name)}${technician.onShift ? "" : t("card.offShift")} · ${technician.currentLoad}/${technician.capacity}</option>`)
      .join("");
    return `<option value="">${t(ticket.assignee ? "card.reassign" : "card.assign")}</option>${options}`;
  }

  function card(ticket, now) {
    const sla = slaBadge(ticket, now);
    const assignable = ["NEW", "REOPENED", "ASSIGNED", "ACCEPTED"].includes(ticket.status);
    return `<article class="card priority-${ticket.priority.toLowerCase()}" data-ticket="${escape(ticket.id)}"
        data-status="${ticket.status}" ${assignable ? "data-assignable" : ""}>
      <header>${assignable ? `<span class="grip" title="${t("card.grip")}"></span>` : ""}
        <strong class="place">${escape(place(ticket))}</strong>
        <span class="priority">${t(`priority.${ticket.priority}`)}</span></header>
      <p class="description">${escape(ticket.description)}</p>
      <p class="facts"><span class="category">${t(`category.${ticket.category}`)}</span>
        <span class="age">${escape(age(ticket, now))}</span></p>
      <p class="sla sla-${sla.level}" data-sla="${sla.level}">${escape(sla.text)}</p>
      ${ticket.assignee ? `<p class="assignee">→ ${escape(ticket.assignee.name)}</p>` : ""}
      ${ticket.status === "WAITING_FOR_OWNER" ? `<p class="tag">${t("card.waiting")}</p>` : ""}
      ${isVoiceReport(ticket) ? `<p class="voice"><button type="button" class="voice">${t("card.voice")}</button></p>` : ""}
      <footer>
        ${assignable ? `<select class="assign" aria-label="${t("card.assignTo")}">${technicianOptions(ticket)}</select>` : ""}
        ${CANCELLABLE.has(ticket.status) ? `<button type="button" class="cancel">${t("card.cancel")}</button>` : ""}
      </footer>
    </article>`;
  }

  // The server marks the description of a voice report (dispatch/tickets.py); its recording is fetched only
  // when the dispatcher asks to hear it, so the board's list stays one query.
  const VOICE_MARKERS = ["【语音转写】", "【语音报修】"];
  const PLAYABLE_AUDIO = ["audio/wav", "audio/mpeg", "audio/mp4"];
  const RECORDINGS = `query($id: ID!) { node(id: $id) { ... on Ticket { attachments { mimeType url } } } }`;

  function isVoiceReport(ticket) {
    return VOICE_MARKERS.some((marker) => ticket.description.includes(marker));
  }

  // One player outside the columns: the columns are redrawn on every live event, which would cut it off.
  async function playVoice(button) {
    const ticketId = button.closest(".card").dataset.ticket;
    const { node } = await gql(RECORDINGS, { id: ticketId });
    const recording = (node ? node.attachments : []).find((attachment) => PLAYABLE_AUDIO.includes(attachment.mimeType));
    if (!recording) {
      button.replaceWith(Object.assign(document.createElement("span"), { textContent: t("card.noVoice") }));
      return;
    }
    let player = $("#voice-player");
    if (!player) {
      player = Object.assign(document.createElement("audio"), { id: "voice-player", controls: true });
      document.body.append(player);
    }
    player.src = recording.url;
    player.play().catch(() => {});
  }

  function age(ticket, now) {
    return t("card.age", { duration: duration(now - new Date(ticket.createdAt).getTime()) });
  }

  function renderColumns() {
    const now = Date.now();
    const byColumn = new Map(COLUMNS.map((key) => [key, []]));
    for (const ticket of state.tickets.values()) {
      const list = byColumn.get(columnOf(ticket));
      if (list) list.push(ticket);
    }
    $("#columns").innerHTML = COLUMNS.map((key) => {
      const tickets = byColumn.get(key).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      return `<section class="column" data-column="${key}">
        <h2>${t(`status.${key}`)} <span class="count">${tickets.length}</span></h2>
        ${tickets.map((ticket) => card(ticket, now)).join("")}
      </section>`;
    }).join("");
  }

  function renderTechnicians() {
    $("#drop-targets").innerHTML = state.technicians.map((technician) =>
      `<li class="${technician.onShift ? "on-shift" : "off-shift"}" data-technician="${escape(technician.id)}">
        <strong>${escape(technician.name)}</strong> <span class="load">${technician.currentLoad}/${technician.capacity}</span></li>`).join("");
    const tickets = [...state.tickets.values()];
    $("#technicians").innerHTML = state.technicians.map((technician) => {
      const theirs = tickets.filter((ticket) => ticket.assignee && ticket.assignee.id === technician.id);
      return `<li class="technician ${technician.onShift ? "on-shift" : "off-shift"}" data-technician="${escape(technician.id)}">
        <header><strong>${escape(technician.name)}</strong>
          <span class="shift">${t(technician.onShift ? "technicians.onShift" : "technicians.offShift")}</span>
          <span class="load">${technician.currentLoad}/${technician.capacity}</span></header>
        <p class="skills">${technician.skills.map((skill) => t(`category.${skill}`)).join(" · ")}</p>
        <ul class="their-tickets">${theirs.map((ticket) =>
          `<li data-ticket="${escape(ticket.id)}">${escape(place(ticket))} · ${t(`status.${ticket.status}`)}</li>`).join("")}</ul>
      </li>`;
    }).join("");
  }

  // The map frames the project's buildings. Each building carries the number of its open tickets, and the
  // tickets themselves sit on rings around it, one dot each, far enough apart never to overlap. Technicians
  // who stand at the same spot are fanned out in a row (above the building when they are at one);
  // those further out sit on the frame's edge, hollow, with their distance in the tooltip, so the
  // dispatcher still sees from which side they would come.
  const DOT = 4;
  const DOT_SPACING = 2 * DOT + 2;
  const FIRST_RING = 17;
  const RING_STEP = 9;

  // Offsets of `count` dots on rings around a point, the inner ring filled first; and the outer radius used.
  function rings(count) {
    const offsets = [];
    let radius = FIRST_RING;
    while (offsets.length < count) {
      const room = Math.floor((2 * Math.PI * radius) / DOT_SPACING);
      const here = Math.min(room, count - offsets.length);
      for (let index = 0; index < here; index += 1) {
        const angle = -Math.PI / 2 + (2 * Math.PI * index) / here;
        offsets.push([Math.cos(angle) * radius, Math.sin(angle) * radius]);
      }
      if (offsets.length < count) radius += RING_STEP;
    }
    return { offsets, radius: count ? radius + DOT : 9 };
  }

  function renderMap() {
    const svg = $("#map");
    const buildings = [...state.buildings.values()].filter((b) => b.latitude != null);
    if (!buildings.length) {
      svg.innerHTML = "";
      return;
    }
    const lats = buildings.map((b) => b.latitude);
    const lngs = buildings.map((b) => b.longitude);
    const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
    const midLng = (Math.min(...lngs) + Math.max(...lngs)) / 2;
    const half = Math.max(Math.max(...lats) - Math.min(...lats), Math.max(...lngs) - Math.min(...lngs), 0.002) * 0.8;
    const x = (lng) => 180 + ((lng - midLng) / half) * 150;
    const y = (lat) => 120 - ((lat - midLat) / half) * 100;
    const clamp = (value, low, high) => Math.min(Math.max(value, low), high);

    const ticketsAt = new Map(buildings.map((building) => [building.id, []]));
    for (const ticket of state.tickets.values()) {
      const building = buildingOf(ticket);
      if (building && ticketsAt.has(building.id)) ticketsAt.get(building.id).push(ticket);
    }
    const now = Date.now();
    const footprints = [];
    const parts = [];
    const dotAt = new Map();
    const technicianAt = new Map();
    for (const building of buildings) {
      const [bx, by] = [x(building.longitude), y(building.latitude)];
      const tickets = ticketsAt.get(building.id).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      const { offsets, radius } = rings(tickets.length);
      footprints.push({ x: bx, y: by, radius });
      const tip = t("map.buildingTip", { name: building.name, count: tickets.length });
      parts.push(`<g class="building" data-building="${escape(building.id)}"><title>${escape(tip)}</title>
        <rect x="${bx - 9}" y="${by - 9}" width="18" height="18" rx="2"></rect>
        ${tickets.length ? `<text class="count" x="${bx}" y="${by + 3.5}">${tickets.length}</text>` : ""}
        <text class="name" x="${bx}" y="${by + radius + 10}">${escape(building.name)}</text></g>`);
      tickets.forEach((ticket, index) => {
        const [dx, dy] = offsets[index];
        dotAt.set(ticket.id, [bx + dx, by + dy]);
        parts.push(`<circle class="ticket sla-${slaBadge(ticket, now).level}" data-ticket="${escape(ticket.id)}"
          data-building="${escape(building.id)}" cx="${(bx + dx).toFixed(1)}" cy="${(by + dy).toFixed(1)}" r="${DOT}">
          <title>${escape(t("map.ticketTip", { place: place(ticket), status: t(`status.${ticket.status}`) }))}</title></circle>`);
      });
    }

    const spots = [];
    for (const technician of state.technicians) {
      const where = technician.currentLocation || technician.home;
      const [rawX, rawY] = [x(where.longitude), y(where.latitude)];
      let [tx, ty] = [clamp(rawX, 8, 352), clamp(rawY, 10, 232)];
      const far = tx !== rawX || ty !== rawY;
      const at = footprints.find((footprint) => Math.hypot(footprint.x - tx, footprint.y - ty) < 9);
      if (at) [tx, ty] = [at.x, at.y - at.radius - 8];
      let spot = spots.find((other) => Math.hypot(other.x - tx, other.y - ty) < 12);
      if (!spot) spots.push((spot = { x: tx, y: ty, technicians: [] }));
      spot.technicians.push({ technician, far, km: distanceKm(where.latitude, where.longitude, midLat, midLng) });
    }
    for (const spot of spots) {
      const spread = ((spot.technicians.length - 1) / 2) * 14;
      const middle = clamp(spot.x, 8 + spread, 352 - spread);
      spot.technicians.forEach(({ technician, far, km }, index) => {
        const tx = middle - spread + index * 14;
        const ty = spot.y;
        technicianAt.set(technician.id, [tx, ty]);
        const load = `${technician.currentLoad}/${technician.capacity}`;
        const tip = t("map.technicianTip", { name: technician.name, load, km: km.toFixed(1) });
        parts.push(`<g class="technician ${technician.onShift ? "on-shift" : "off-shift"} ${far ? "far" : ""}"
          data-technician="${escape(technician.id)}">
          <polygon points="${tx},${ty - 7} ${tx - 6},${ty + 5} ${tx + 6},${ty + 5}"></polygon><title>${escape(tip)}</title></g>`);
      });
    }
    const [lines, stops] = routeParts(dotAt, technicianAt);
    svg.innerHTML = [...lines, ...parts, ...stops].join("");
  }

  // A technician's route: a line from where they are through their stops in order, and each stop numbered
  // beside its ticket's dot, the reasons on hover (and, on a click, below the map). Colours tell routes apart.
  function routeParts(dotAt, technicianAt) {
    const lines = [];
    const stops = [];
    state.routes.forEach((route, index) => {
      const technician = state.technicians.find((candidate) => candidate.id === route.technicianId);
      const placed = route.stops.filter((stop) => dotAt.has(stop.ticketId));
      if (!technician || !placed.length) return;
      const colour = `hsl(${(index * 67) % 360}, 65%, 42%)`;
      const points = [technicianAt.get(technician.id), ...placed.map((stop) => dotAt.get(stop.ticketId))].filter(Boolean);
      const lineTip = t("route.lineTip", { name: technician.name, count: placed.length });
      lines.push(`<polyline class="route" data-route="${escape(technician.id)}" stroke="${colour}"
        points="${points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ")}"><title>${escape(lineTip)}</title></polyline>`);
      placed.forEach((stop) => {
        const number = route.stops.indexOf(stop) + 1;
        const [px, py] = dotAt.get(stop.ticketId);
        const facts = { name: technician.name, number, starts: clock(stop.startsAt), ends: clock(stop.endsAt) };
        const reasons = stop.reasons.map(reasonText).join("；");
        stops.push(`<g class="route-stop" data-route="${escape(technician.id)}" data-ticket="${escape(stop.ticketId)}"
          data-number="${number}" data-detail="${escape(t("route.detail", { ...facts, place: label(stop.ticketId), reasons }))}">
          <circle cx="${(px + 6).toFixed(1)}" cy="${(py - 6).toFixed(1)}" r="5" fill="${colour}"></circle>
          <text x="${(px + 6).toFixed(1)}" y="${(py - 3.5).toFixed(1)}">${number}</text>
          <title>${escape(`${t("route.stopTip", facts)}\n${reasons}`)}</title></g>`);
      });
    });
    return [lines, stops];
  }

  function reasonText(reason) {
    return t(`reason.${reason.code}`, { minutes: reason.minutes, skill: reason.skill ? t(`category.${reason.skill}`) : "" });
  }

  function clock(moment) {
    // In the project's own zone, wherever the dispatcher's browser is.
    const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: state.project.timezone };
    return new Date(moment).toLocaleTimeString(document.documentElement.lang, options);
  }

  function distanceKm(lat1, lng1, lat2, lng2) {
    const rad = Math.PI / 180;
    const dLat = (lat2 - lat1) * rad;
    const dLng = (lng2 - lng1) * rad;
    const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLng / 2) ** 2;
    return 12742 * Math.asin(Math.sqrt(a));
  }

  function render() {
    if (state.drag) {
      state.stale = true;
      return;
    }
    state.stale = false;
    renderColumns();
    renderTechnicians();
    renderMap();
  }

  function remember(ticket) {
    const current = state.tickets.get(ticket.id);
    // Events can be replayed after a fresher snapshot: never let an older version of a ticket win.
    if (current && current.version > ticket.version) return;
    const building = buildingOf(ticket);
    if (building) state.buildings.set(building.id, building);
    if (OPEN.includes(ticket.status)) state.tickets.set(ticket.id, ticket);
    else state.tickets.delete(ticket.id);
  }

  async function loadTechnicians() {
    const { technicians } = await gql(TECHNICIANS, { projectId: state.project.id });
    state.technicians = technicians;
  }

  let techniciansRefresh = null;
  function refreshTechniciansSoon() {
    clearTimeout(techniciansRefresh);
    techniciansRefresh = setTimeout(async () => {
      try {
        await loadTechnicians();
        render();
      } catch (error) {
        showProblem(error);
      }
    }, 250);
  }

  async function loadRoutes() {
    const { dayRoutes } = await gql(DAY_ROUTES, { projectId: state.project.id });
    state.routes = dayRoutes ? dayRoutes.routes : [];
  }

  // Routes are planned anew after changes settle (planning takes a moment), and every minute as time moves.
  let routesRefresh = null;
  function refreshRoutesSoon(delay = 1000) {
    clearTimeout(routesRefresh);
    routesRefresh = setTimeout(async () => {
      try {
        await loadRoutes();
        render();
      } catch (error) {
        showProblem(error);
      }
      refreshRoutesSoon(60000);
    }, delay);
  }

  async function loadSettings() {
    const { dispatchSettings } = await gql(SETTINGS, { projectId: state.project.id });
    state.warningPercent = dispatchSettings.warningPercent;
    for (const targets of dispatchSettings.sla) {
      state.allowedMinutes.set(targets.priority, {
        respond: targets.respondMinutes,
        onSite: targets.onSiteMinutes,
        resolve: targets.resolveMinutes,
      });
    }
  }

  async function loadSnapshot() {
    await loadSettings();
    let after = null;
    let lastSeq = 0;
    do {
      const { tickets } = await gql(TICKETS, { projectId: state.project.id, status: OPEN, after });
      for (const { node } of tickets.edges) {
        for (const event of node.events) lastSeq = Math.max(lastSeq, event.seq);
        remember(node);
      }
      after = tickets.pageInfo.hasNextPage ? tickets.pageInfo.endCursor : null;
    } while (after);
    await loadTechnicians();
    after = null;
    for (let page = 0; page < 20; page += 1) {
      const { units } = await gql(BUILDINGS, { projectId: state.project.id, after });
      for (const { node } of units.edges) state.buildings.set(node.building.id, node.building);
      if (!units.pageInfo.hasNextPage) break;
      after = units.pageInfo.endCursor;
    }
    return lastSeq;
  }

  // Runs a mutation and tells the dispatcher, in their language, why it was refused or failed.
  async function act(mutation, variables) {
    showError("");
    try {
      const result = Object.values(await gql(mutation, variables))[0];
      if (result.code) throw new Refused(result);
      return result;
    } catch (error) {
      showProblem(error);
      return null;
    }
  }

  function assign(ticketId, technicianId) {
    return act(ASSIGN, { ticketId, technicianId });
  }

  function wireActions() {
    const columns = $("#columns");
    columns.addEventListener("change", async (event) => {
      if (!event.target.matches("select.assign") || !event.target.value) return;
      await assign(event.target.closest(".card").dataset.ticket, event.target.value);
    });
    columns.addEventListener("click", async (event) => {
      if (event.target.matches("button.voice")) {
        await playVoice(event.target);
        return;
      }
      if (!event.target.matches("button.cancel")) return;
      const ticketId = event.target.closest(".card").dataset.ticket;
      if (!window.confirm(t("card.confirmCancel"))) return;
      await act(CANCEL, { ticketId, note: t("card.cancelNote") });
    });
    wireDrag(columns);
    $("#map").addEventListener("click", (event) => {
      const stop = event.target.closest(".route-stop");
      $("#route-detail").textContent = stop ? stop.dataset.detail : "";
    });

    const dialog = $("#plan");
    $("#optimise").addEventListener("click", async () => {
      const plan = await act(OPTIMISE, { projectId: state.project.id, apply: false });
      if (plan) showPlan(plan);
    });
    $("#plan-discard").addEventListener("click", () => dialog.close());
    $("#plan-apply").addEventListener("click", async () => {
      dialog.close();
      await act(OPTIMISE, { projectId: state.project.id, apply: true });
    });
  }

  // Drag-assign with any pointer. A mouse drags a card from anywhere on it; a finger or a pen from its grip,
  // the one place where the browser does not take the gesture for scrolling. The card is dropped on a
  // technician: in the side panel, or in the tray that rises from the bottom while the panel is out of
  // sight (on a phone it is below all the columns).
  function wireDrag(columns) {
    columns.addEventListener("pointerdown", (event) => {
      const card = event.target.closest(".card[data-assignable]");
      if (!card || !event.isPrimary || event.button !== 0 || event.target.closest("select, button")) return;
      if (event.pointerType !== "mouse" && !event.target.closest(".grip")) return;
      event.preventDefault();
      state.drag = { ticketId: card.dataset.ticket, card, pointerId: event.pointerId, x: event.clientX, y: event.clientY };
    });
    document.addEventListener("pointermove", (event) => {
      const drag = state.drag;
      if (!drag || event.pointerId !== drag.pointerId) return;
      if (!drag.ghost) {
        if (Math.hypot(event.clientX - drag.x, event.clientY - drag.y) < 6) return;
        liftCard(drag);
      }
      drag.ghost.style.transform = `translate(${event.clientX}px, ${event.clientY}px) translate(-50%, -150%)`;
      const under = document.elementFromPoint(event.clientX, event.clientY);
      const target = under && under.closest("[data-technician]");
      if (target !== drag.target) {
        if (drag.target) drag.target.classList.remove("drop-target");
        if (target) target.classList.add("drop-target");
        drag.target = target;
      }
    });
    document.addEventListener("pointerup", (event) => {
      const drag = state.drag;
      if (!drag || event.pointerId !== drag.pointerId) return;
      const target = drag.ghost && drag.target;
      dropCard();
      if (target) assign(drag.ticketId, target.dataset.technician);
    });
    document.addEventListener("pointercancel", (event) => {
      if (state.drag && event.pointerId === state.drag.pointerId) dropCard();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.drag) dropCard();
    });
  }

  function liftCard(drag) {
    drag.ghost = document.createElement("div");
    drag.ghost.className = "drag-ghost";
    drag.ghost.textContent = drag.card.querySelector(".place").textContent;
    document.body.append(drag.ghost);
    drag.card.classList.add("dragging");
    document.body.classList.add("dragging-ticket");
    const panel = $("#technicians").getBoundingClientRect();
    $("#drop-tray").hidden = panel.bottom > 0 && panel.top < window.innerHeight;
  }

  function dropCard() {
    const drag = state.drag;
    state.drag = null;
    if (drag.ghost) drag.ghost.remove();
    if (drag.target) drag.target.classList.remove("drop-target");
    drag.card.classList.remove("dragging");
    document.body.classList.remove("dragging-ticket");
    $("#drop-tray").hidden = true;
    if (state.stale) render();
  }

  function label(ticketId) {
    const ticket = state.tickets.get(ticketId);
    return ticket ? place(ticket) : "";
  }

  function technicianName(technicianId) {
    const technician = state.technicians.find((candidate) => candidate.id === technicianId);
    return technician ? technician.name : "";
  }

  function unassignable(item) {
    const ticket = state.tickets.get(item.ticketId);
    return t(`unassignable.${item.code}`, { skill: ticket ? t(`category.${ticket.category}`) : "" });
  }

  function showPlan(plan) {
    const moves = plan.assignments.filter((a) => a.changes);
    $("#plan-summary").textContent = moves.length
      ? t("plan.changes", { moves: moves.length, stays: plan.assignments.length - moves.length })
      : t("plan.best");
    $("#plan-rows").innerHTML = plan.assignments.map((a) => `<tr class="${a.changes ? "moves" : "stays"}" data-ticket="${escape(a.ticketId)}">
      <td>${escape(label(a.ticketId))}</td><td>${escape(technicianName(a.technicianId))}</td>
      <td>${escape(t("plan.km", { km: (a.cost.distanceMeters / 1000).toFixed(1) }))}</td>
      <td>${t(a.changes ? "plan.change" : "plan.stays")}</td></tr>`).join("");
    $("#plan-unassigned").innerHTML = plan.unassigned
      .map((u) => `<li>${escape(t("plan.unassigned", { place: label(u.ticketId), reason: unassignable(u) }))}</li>`).join("");
    $("#plan-apply").disabled = !moves.length;
    $("#plan").showModal();
  }

  const setStatus = liveBadge($("#live-status"));

  async function start() {
    const { viewer } = await gql(VIEWER);
    const role = viewer.roles.find((r) => r.role === "DISPATCHER" || r.role === "ADMIN");
    if (!role) throw new Notice(t("board.notDispatcher"));
    state.project = role.project;
    $("#project-name").textContent = role.project.name;
    const lastSeq = await loadSnapshot();
    await loadRoutes();
    refreshRoutesSoon(60000);
    $("#board").hidden = false;
    $("#optimise").hidden = false;
    render();
    wireActions();
    const client = liveClient(setStatus);
    follow(client, BOARD, { projectId: state.project.id, afterSeq: lastSeq }, {
      onEvent(event) {
        if (event.ticket) remember(event.ticket);
        render();
        refreshTechniciansSoon();
        refreshRoutesSoon();
      },
      onError(error) {
        showError(t("live.stoppedHint", { problem: problem(error) }));
        setStatus("stopped");
      },
    });
    // Ages and countdowns move on their own; the data only changes with events.
    setInterval(tick, 1000);
  }

  // Updates ages and SLA countdowns in place (re-rendering would close an open <select>).
  function tick() {
    const now = Date.now();
    for (const element of document.querySelectorAll("#columns .card")) {
      const ticket = state.tickets.get(element.dataset.ticket);
      if (!ticket) continue;
      element.querySelector(".age").textContent = age(ticket, now);
      const sla = slaBadge(ticket, now);
      const badge = element.querySelector(".sla");
      badge.className = `sla sla-${sla.level}`;
      badge.dataset.sla = sla.level;
      badge.textContent = sla.text;
    }
  }

  Courtyard.translatePage(t);
  loginForm($("#login"), start);
})();
