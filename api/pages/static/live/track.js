// An owner following their repair: the steps so far, live, the promise of when someone will come, and
// confirming (with a rating) or reopening once it is resolved.
"use strict";

(() => {
  const { Notice, Refused, clock, escape, follow, gql, liveBadge, liveClient, locale, loginForm, problem } = Courtyard;

  const t = Courtyard.texts({
    "zh-CN": {
      "page.title": "Courtyard · 我的报修",
      "page.heading": "我的报修",
      "login.intro": "登录后查看报修进度。",
      "timeline.label": "报修进度",
      "step.SUBMITTED": "已提交",
      "step.ASSIGNED": "已派单",
      "step.assignedTo": "已派给{name}",
      "step.ACCEPTED": "师傅已接单",
      "step.CHECKED_IN": "师傅已上门",
      "step.STARTED": "维修中",
      "step.RESOLVED": "已修好",
      "step.CLOSED": "您已确认",
      "event.SUBMITTED": "您提交了报修",
      "event.TRIAGED": "调度员已查看",
      "event.ASSIGNED": "已派给维修师傅",
      "event.REASSIGNED": "已改派给另一位师傅",
      "event.UNASSIGNED": "重新等待派单",
      "event.ESCALATED": "正在为您另找师傅",
      "event.ACCEPTED": "师傅已接单",
      "event.REJECTED": "师傅无法接单，正在另找师傅",
      "event.CHECKED_IN": "师傅已上门",
      "event.STARTED": "开始维修",
      "event.WAITING_FOR_OWNER": "师傅在等您回复",
      "event.RESUMED": "继续维修",
      "event.RESOLVED": "师傅已修好",
      "event.CLOSED": "您确认已修好",
      "event.REOPENED": "重新报修",
      "event.CANCELLED": "已取消",
      "event.SLA_WARNING": "快到承诺的时间了",
      "event.SLA_BREACHED": "已超过承诺的时间",
      "event.CATEGORY_CHANGED": "已更正报修类别",
      "event.PRIORITY_CHANGED": "紧急程度已调整",
      "event.ATTACHMENT_ADDED": "添加了照片",
      "event.COMMENTED": "添加了备注",
      "event.technician": "（{name}）",
      "event.note": "：“{note}”",
      "promise.coming": "维修师傅将在{when}前上门。",
      "promise.working": "预计{when}前修好。",
      "promise.waiting": "师傅在等您，请与师傅联系。",
      "promise.resolved": "师傅说已经修好了。您看修好了吗？",
      "promise.closed": "已完成，谢谢！",
      "promise.cancelled": "这条报修已取消。",
      "when.tomorrow": "明天 {time}",
      "when.day": "{day} {time}",
      "actions.question": "修好了吗？",
      "actions.comment": "给师傅留句话（选填）",
      "actions.confirm": "确认修好",
      "actions.reopen": "还没修好，重新报修",
      "actions.reopenNote": "还没修好。",
      "rating.label": "评分",
      "rating.1": "1 星",
      "rating.2": "2 星",
      "rating.3": "3 星",
      "rating.4": "4 星",
      "rating.5": "5 星",
      "closed.rated": "您的评价：{stars}",
      "history.title": "全部记录",
      "track.notFound": "您的报修里没有这一条。",
    },
    en: {
      "page.title": "Courtyard · your repair",
      "page.heading": "Your repair",
      "login.intro": "Log in to follow your repair.",
      "timeline.label": "Steps of your repair",
      "step.SUBMITTED": "Submitted",
      "step.ASSIGNED": "Assigned",
      "step.assignedTo": "Assigned to {name}",
      "step.ACCEPTED": "Accepted",
      "step.CHECKED_IN": "On site",
      "step.STARTED": "In progress",
      "step.RESOLVED": "Resolved",
      "step.CLOSED": "Confirmed",
      "event.SUBMITTED": "You reported the fault",
      "event.TRIAGED": "A dispatcher looked at it",
      "event.ASSIGNED": "A technician was assigned",
      "event.REASSIGNED": "Another technician was assigned",
      "event.UNASSIGNED": "Waiting for a technician again",
      "event.ESCALATED": "Looking for another technician",
      "event.ACCEPTED": "The technician accepted",
      "event.REJECTED": "The technician could not take it; finding another",
      "event.CHECKED_IN": "The technician arrived",
      "event.STARTED": "Work started",
      "event.WAITING_FOR_OWNER": "The technician is waiting for you",
      "event.RESUMED": "Work resumed",
      "event.RESOLVED": "The technician finished",
      "event.CLOSED": "You confirmed the repair",
      "event.REOPENED": "Reopened",
      "event.CANCELLED": "Cancelled",
      "event.SLA_WARNING": "Running close to the promised time",
      "event.SLA_BREACHED": "Later than promised",
      "event.CATEGORY_CHANGED": "Category corrected",
      "event.PRIORITY_CHANGED": "Urgency changed",
      "event.ATTACHMENT_ADDED": "Photo added",
      "event.COMMENTED": "Note added",
      "event.technician": " ({name})",
      "event.note": ": “{note}”",
      "promise.coming": "A technician will be with you by {when}.",
      "promise.working": "The repair should be done by {when}.",
      "promise.waiting": "The technician is waiting for you: please get in touch.",
      "promise.resolved": "The technician says it is fixed. Is it?",
      "promise.closed": "Done. Thank you!",
      "promise.cancelled": "This repair was cancelled.",
      "when.tomorrow": "tomorrow {time}",
      "when.day": "{day} {time}",
      "actions.question": "Is it fixed?",
      "actions.comment": "A word for the technician (optional)",
      "actions.confirm": "Confirm the repair",
      "actions.reopen": "Still broken: reopen",
      "actions.reopenNote": "Still not fixed.",
      "rating.label": "Rating",
      "rating.1": "1 star",
      "rating.2": "2 stars",
      "rating.3": "3 stars",
      "rating.4": "4 stars",
      "rating.5": "5 stars",
      "closed.rated": "You rated it {stars}",
      "history.title": "Everything that happened",
      "track.notFound": "No such repair among yours.",
    },
  });

  const TICKET = `query($id: ID!) {
    node(id: $id) {
      ... on Ticket {
        id status version description locationKind locationDetail createdAt onSiteDueAt resolveDueAt allowedActions rating
        project { timezone }
        unit { number building { name } }
        building { name }
        assignee { name }
      }
    }
  }`;
  const UPDATES = `subscription($ticketId: ID!, $afterSeq: Int) {
    ticketUpdates(ticketId: $ticketId, afterSeq: $afterSeq) {
      seq type at actorRole note technician { name }
      ticket { status version onSiteDueAt resolveDueAt allowedActions rating assignee { name } }
    }
  }`;
  const TRANSITION = `mutation($ticketId: ID!, $action: TicketAction!, $note: String, $details: TransitionDetailsInput) {
    transitionTicket(ticketId: $ticketId, action: $action, note: $note, details: $details) {
      __typename ... on Error { code message }
    }
  }`;

  // The steps of a repair, in order; each is reached by one kind of event.
  const STEPS = ["SUBMITTED", "ASSIGNED", "ACCEPTED", "CHECKED_IN", "STARTED", "RESOLVED", "CLOSED"];
  const STEP_OF = { REASSIGNED: "ASSIGNED" };
  // Events that send the ticket back to be dispatched: the steps after submission start over.
  const BACK_TO_DISPATCH = new Set(["REOPENED", "UNASSIGNED", "REJECTED", "ESCALATED"]);

  const ticketId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
  const state = { ticket: null, timeZone: "Asia/Shanghai", events: [], rating: 0 };
  const $ = (selector) => document.querySelector(selector);

  function showError(message) {
    const box = $("#track-error");
    box.textContent = message;
    box.hidden = !message;
  }

  // "15:40" today, "明天 01:18" / "tomorrow 01:18", "11月26日 09:00" / "Nov 26 09:00" otherwise, in the
  // project's time zone.
  function when(iso) {
    const date = new Date(iso);
    const dayOf = (moment) => new Intl.DateTimeFormat("en-CA", { timeZone: state.timeZone }).format(moment);
    const time = clock(date, state.timeZone);
    if (dayOf(date) === dayOf(new Date())) return time;
    if (dayOf(date) === dayOf(new Date(Date.now() + 86400000))) return t("when.tomorrow", { time });
    const day = new Intl.DateTimeFormat(locale, { timeZone: state.timeZone, month: "short", day: "numeric" }).format(date);
    return t("when.day", { day, time });
  }

  function promise(ticket) {
    switch (ticket.status) {
      case "TRIAGE":
      case "NEW":
      case "REOPENED":
      case "ASSIGNED":
      case "ACCEPTED":
        return t("promise.coming", { when: when(ticket.onSiteDueAt) });
      case "ON_SITE":
      case "IN_PROGRESS":
        return t("promise.working", { when: when(ticket.resolveDueAt) });
      case "WAITING_FOR_OWNER":
        return t("promise.waiting");
      case "RESOLVED":
        return t("promise.resolved");
      case "CLOSED":
        return t("promise.closed");
      default:
        return t("promise.cancelled");
    }
  }

  // When each step was (last) reached; steps after submission start over when the ticket goes back to dispatch.
  function reachedSteps() {
    const reached = new Map();
    let technician = null;
    for (const event of state.events) {
      if (BACK_TO_DISPATCH.has(event.type)) {
        for (const step of STEPS.slice(1)) reached.delete(step);
        continue;
      }
      const step = STEP_OF[event.type] || event.type;
      if (STEPS.includes(step)) reached.set(step, event.at);
      if (step === "ASSIGNED" && event.technician) technician = event.technician.name;
    }
    return { reached, technician };
  }

  function render() {
    const ticket = state.ticket;
    $("#promise").textContent = promise(ticket);
    const { reached, technician } = reachedSteps();
    const cancelled = ticket.status === "CANCELLED";
    $("#timeline").innerHTML = STEPS.map((key) => {
      const at = reached.get(key);
      const title = key === "ASSIGNED" && at && technician ? t("step.assignedTo", { name: technician }) : t(`step.${key}`);
      return `<li class="step ${at ? "done" : cancelled ? "skipped" : "pending"}" data-step="${key}">
        <span class="dot"></span><span class="title">${escape(title)}</span>
        <time>${at ? escape(when(at)) : ""}</time></li>`;
    }).join("");
    $("#history").innerHTML = state.events.map((event) =>
      `<li data-seq="${event.seq}"><time>${escape(when(event.at))}</time> ${escape(t(`event.${event.type}`))}` +
      `${event.technician && event.type.endsWith("ASSIGNED") ? escape(t("event.technician", { name: event.technician.name })) : ""}` +
      `${event.note ? escape(t("event.note", { note: event.note })) : ""}</li>`).join("");
    const canConfirm = ticket.allowedActions.includes("CONFIRM");
    $("#resolved-actions").hidden = !canConfirm;
    $("#reopen").hidden = !ticket.allowedActions.includes("REOPEN");
    const closed = $("#closed-note");
    closed.hidden = !["CLOSED", "CANCELLED"].includes(ticket.status);
    closed.textContent = ticket.status === "CLOSED" && ticket.rating ? t("closed.rated", { stars: "★".repeat(ticket.rating) }) : "";
  }

  const setStatus = liveBadge($("#live-status"));

  async function transition(action, note, details) {
    showError("");
    try {
      const { transitionTicket: result } = await gql(TRANSITION, { ticketId, action, note, details });
      if (result.code) throw new Refused(result);
    } catch (error) {
      showError(problem(error));
    }
  }

  function wireActions() {
    for (const star of document.querySelectorAll(".rating button")) {
      star.addEventListener("click", () => {
        state.rating = Number(star.dataset.rating);
        for (const other of document.querySelectorAll(".rating button")) {
          other.classList.toggle("chosen", Number(other.dataset.rating) <= state.rating);
        }
        $("#confirm").disabled = false;
      });
    }
    $("#confirm").addEventListener("click", () => {
      const comment = $("#comment").value.trim();
      transition("CONFIRM", null, { rating: state.rating, comment: comment || null });
    });
    $("#reopen").addEventListener("click", () => {
      transition("REOPEN", $("#comment").value.trim() || t("actions.reopenNote"), null);
    });
  }

  async function start() {
    const { node } = await gql(TICKET, { id: ticketId });
    if (!node || !node.status) throw new Notice(t("track.notFound"));
    state.ticket = node;
    state.timeZone = node.project.timezone;
    const where = node.unit ? `${node.unit.building.name} ${node.unit.number}` : node.building ? node.building.name : "";
    $("#place").textContent = `${where}${node.locationDetail ? ` · ${node.locationDetail}` : ""}`;
    $("#description").textContent = node.description;
    $("#repair").hidden = false;
    render();
    wireActions();
    follow(liveClient(setStatus), UPDATES, { ticketId, afterSeq: 0 }, {
      onEvent(event) {
        state.events.push(event);
        if (event.ticket && event.ticket.version >= state.ticket.version) state.ticket = { ...state.ticket, ...event.ticket };
        render();
      },
      onError(error) {
        showError(t("live.stoppedHint", { problem: problem(error) }));
        setStatus("stopped");
      },
    });
  }

  Courtyard.translatePage(t);
  loginForm($("#login"), start);
})();
