// Preloaded into Azurite's process by the reconcilePass benchmark only
// (startAzurite({ preload: [...] })); production, the local stack and the tests
// run plain Azurite.
//
// Why: Azurite keeps each table in a LokiJS collection with binary indices on
// PartitionKey and RowKey, and finds one entity with
// findOne({ PartitionKey, RowKey }). LokiJS answers that through the
// PartitionKey index alone (every row of the partition), then scans those rows
// for the RowKey: every insert, point read, update and delete costs O(rows in
// the partition), so seeding rows into one partition is O(n²): 44,000 rows
// took 306 s plain, 11 s with this preload; 220,000 would take about 2 hours.
//
// What: that exact query shape (two string keys, nothing else) is answered from
// a Map of "PartitionKey, RowKey" → LokiJS id, then Collection.get(id), a binary
// search. Every other query goes to LokiJS unchanged. Results are the same:
// - the Map is built from the collection's documents on first use (covers data
//   loaded from disk) and then kept by add() and update(), the only ways
//   LokiJS puts a document in a collection, so a key missing from it is absent;
// - removals (remove, clear, rollback of a failed batch) are not tracked: an
//   entry is checked on every lookup (the id still holds a document with these
//   keys) and dropped when it no longer does.
import { createRequire } from "node:module";

const require = createRequire(createRequire(import.meta.url).resolve("azurite/package.json"));
const Loki = require("lokijs");
const Collection = Loki.Collection;

/** @type {WeakMap<object, Map<string, number>>} */
const indexes = new WeakMap();

// Length-prefixed: no choice of characters in the keys can make two pairs collide.
const keyOf = (partitionKey, rowKey) => `${partitionKey.length}:${partitionKey}${rowKey}`;

const isPointQuery = (query) => {
  if (query === null || typeof query !== "object") return false;
  const keys = Object.keys(query);
  return (
    keys.length === 2 &&
    typeof query.PartitionKey === "string" &&
    typeof query.RowKey === "string" &&
    keys.includes("PartitionKey") &&
    keys.includes("RowKey")
  );
};

function indexOf(collection) {
  let index = indexes.get(collection);
  if (!index) {
    index = new Map();
    for (const doc of collection.data)
      if (typeof doc.PartitionKey === "string" && typeof doc.RowKey === "string")
        index.set(keyOf(doc.PartitionKey, doc.RowKey), doc.$loki);
    indexes.set(collection, index);
  }
  return index;
}

function remember(collection, doc) {
  const index = indexes.get(collection);
  if (index && doc && typeof doc.PartitionKey === "string" && typeof doc.RowKey === "string")
    index.set(keyOf(doc.PartitionKey, doc.RowKey), doc.$loki);
}

const add = Collection.prototype.add;
Collection.prototype.add = function (obj) {
  const result = add.call(this, obj);
  remember(this, obj);
  return result;
};

const update = Collection.prototype.update;
Collection.prototype.update = function (doc) {
  const result = update.call(this, doc);
  if (!Array.isArray(doc)) remember(this, doc);
  else for (const one of doc) remember(this, one);
  return result;
};

const findOne = Collection.prototype.findOne;
Collection.prototype.findOne = function (query) {
  // Clone-on-read collections keep LokiJS's own path (Azurite's are not).
  if (!isPointQuery(query) || this.cloneObjects) return findOne.call(this, query);
  const index = indexOf(this);
  const key = keyOf(query.PartitionKey, query.RowKey);
  const id = index.get(key);
  if (id === undefined) return null;
  const doc = this.get(id);
  if (doc && doc.PartitionKey === query.PartitionKey && doc.RowKey === query.RowKey) return doc;
  index.delete(key);
  return null;
};
