-- wrk script: POST a Teams activity to /api/messages, a different body each request.
--   wrk ... -s bench/wrk/activities.lua URL -- TEMPLATE_FILE FIRST_ID [FIRST_ISSUE]
-- TEMPLATE_FILE holds the JSON with @@ID@@ (and @@ISSUE@@) placeholders (bench/payloads.py writes it).
-- Request k (k = 0, 1, 2, ...) gets @@ID@@ = FIRST_ID + k and @@ISSUE@@ = FIRST_ISSUE + k.
-- Run with one thread (-t1): one Lua state, so the counter is global and never repeats.

local parts = {}   -- the template split at its placeholders: text, key, text, key, ..., text
local first_id, first_issue
local counter = 0

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local text = file:read("*a")
  file:close()
  first_id = tonumber(args[2])
  first_issue = tonumber(args[3] or "0")
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
  local issue = string.format("%d", first_issue + counter)
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
