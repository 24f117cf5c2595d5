package detect

import "container/list"

// lru is a map that keeps at most max entries, forgetting the least recently used.
type lru[K comparable, V any] struct {
	max   int
	order *list.List // of *lruEntry, most recent at the front
	items map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key K
	val V
}

func newLRU[K comparable, V any](max int) *lru[K, V] {
	return &lru[K, V]{max: max, order: list.New(), items: map[K]*list.Element{}}
}

// get returns the value of k and marks it used.
func (c *lru[K, V]) get(k K) (V, bool) {
	if el, ok := c.items[k]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*lruEntry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// put sets k, forgetting the least recently used entry when full. It reports whether
// k is new.
func (c *lru[K, V]) put(k K, v V) bool {
	if el, ok := c.items[k]; ok {
		el.Value.(*lruEntry[K, V]).val = v
		c.order.MoveToFront(el)
		return false
	}
	if c.order.Len() >= c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*lruEntry[K, V]).key)
	}
	c.items[k] = c.order.PushFront(&lruEntry[K, V]{key: k, val: v})
	return true
}

func (c *lru[K, V]) len() int { return c.order.Len() }

// each calls fn for every entry, most recent first.
func (c *lru[K, V]) each(fn func(K, V)) {
	for el := c.order.Front(); el != nil; el = el.Next() {
		e := el.Value.(*lruEntry[K, V])
		fn(e.key, e.val)
	}
}
