-- wrk script: POST a Teams activity to /api/messages, a different body each request.
--   wrk ... -s bench/wrk/activities.lua URL -- TEMPLATE_FILE FIRST_ID [FIRST_ISSUE [ISSUE_SPAN [EXPECT [REFUSE]]]]
-- TEMPLATE_FILE holds the JSON with @@ID@@ (and @@ISSUE@@) placeholders (bench/payloads.py writes it).
-- Request k (k = 0, 1, 2, ...) gets @@ID@@ = FIRST_ID + k and @@ISSUE@@ = FIRST_ISSUE + k, or, given an ISSUE_SPAN
-- above 0, FIRST_ISSUE + (k mod ISSUE_SPAN) (issues cycled through).
-- Given EXPECT, every answer is checked: it must contain EXPECT and (given REFUSE) not REFUSE, both plain text; the
-- counts are printed at the end as "Answers checked: N, as expected: M".
-- Run with one thread (-t1): one Lua state, so the counter is global and never repeats.

local parts = {}   -- the template split at its placeholders: text, key, text, key, ..., text
local first_id, first_issue, issue_span
local counter = 0
checked, expected = 0, 0   -- globals: done() reads them from the thread
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local text = file:read("*a")
  file:close()
  first_id = tonumber(args[2])
  first_issue = tonumber(args[3] or "0")
  issue_span = tonumber(args[4] or "0")
  local expect, refuse = args[5], args[6]
  if expect and expect ~= "" then
    -- Defined only when asked: wrk reads answers' bodies only for a script that has response().
    response = function(status, headers, body)
      checked = checked + 1
      if string.find(body, expect, 1, true) and not (refuse and refuse ~= "" and string.find(body, refuse, 1, true)) then
        expected = expected + 1
      end
    end
  end
  local position = 1
  while true do
    local s, e, key = string.find(text, "@@(%u+)@@", position)
    if not s then break end
    parts[#parts + 1] = string.sub(text, position, s - 1)
    parts[#parts + 1] = key
    position = e + 1
  end
  parts[#parts + 1] = string.sub(text, position)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local id = string.format("%d", first_id + counter)
  local offset = counter
  if issue_span > 0 then offset = counter % issue_span end
  local issue = string.format("%d", first_issue + offset)
  counter = counter + 1
  local out = {}
  for i = 1, #parts do
    local part = parts[i]
    if i % 2 == 0 then
      if part == "ID" then part = id elseif part == "ISSUE" then part = issue end
    end
    out[i] = part
  end
  return wrk.format(nil, nil, nil, table.concat(out))
end

function done(summary, latency, requests)
  local all_checked, all_expected = 0, 0
  for _, thread in ipairs(threads) do
    all_checked = all_checked + (thread:get("checked") or 0)
    all_expected = all_expected + (thread:get("expected") or 0)
  end
  if all_checked > 0 then
    io.write(string.format("Answers checked: %d, as expected: %d\n", all_checked, all_expected))
  end
end
