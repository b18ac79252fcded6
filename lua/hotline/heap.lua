-- hotline.heap: the loop's deadlines, a binary heap of entries ordered by
-- due time. An entry is any table: a task waiting with a deadline, or a
-- timeout scope (hotline.timeout). The slot table is shared with the loop,
-- which reads it to know whether an entry has a deadline running; reset
-- empties the tables in place so that those shared references stay valid.
-- SPDX-License-Identifier: MIT

local heap = {}

local items, due, slot = {}, {}, {}
local size = 0

-- Shared with the loop, which reads heap.items[1] and heap.due[entry]
-- without a call: entry -> its index in the heap while it has a deadline;
-- the entries in heap order; entry -> its deadline.
heap.slot, heap.items, heap.due = slot, items, due

local function swap(i, j)
  local a, b = items[i], items[j]
  items[i], items[j] = b, a
  slot[b], slot[a] = i, j
end

local function up(i)
  while i > 1 do
    local parent = (i - i % 2) / 2
    if due[items[parent]] <= due[items[i]] then return end
    swap(i, parent)
    i = parent
  end
end

local function down(i)
  while true do
    local left, smallest = 2 * i, i
    if left <= size and due[items[left]] < due[items[smallest]] then
      smallest = left
    end
    if left + 1 <= size and due[items[left + 1]] < due[items[smallest]] then
      smallest = left + 1
    end
    if smallest == i then return end
    swap(i, smallest)
    i = smallest
  end
end

-- Gives entry a deadline (monotonic seconds); it must have none yet.
function heap.push(entry, deadline)
  size = size + 1
  items[size], due[entry], slot[entry] = entry, deadline, size
  up(size)
end

-- Takes entry's deadline away; nothing if it has none.
function heap.remove(entry)
  local i = slot[entry]
  if not i then return end
  if i ~= size then
    swap(i, size)
  end
  items[size], due[entry], slot[entry] = nil, nil, nil
  size = size - 1
  if i <= size then
    down(i)
    up(i)
  end
end

-- -> the entry due first and its deadline, or nil when there is none
function heap.first()
  local entry = items[1]
  if entry then return entry, due[entry] end
  return nil
end

function heap.size()
  return size
end

function heap.reset()
  for k in pairs(items) do items[k] = nil end
  for k in pairs(due) do due[k] = nil end
  for k in pairs(slot) do slot[k] = nil end
  size = 0
end

return heap
