-- Guarantees: the gate's value and the decision of the attempt being waited on, read at one instant (an attempt frees its gate and records its decision in one step, so a waiter sees both or neither).
-- KEYS: 1 gate, 2 decision of the awaited attempt
return { redis.call('GET', KEYS[1]) or '', redis.call('GET', KEYS[2]) or '' }
