// Data source for the TypeORM CLI (migration:generate / migration:run), from DATABASE_URL.
import { createDataSource } from '../db/data-source'
import { DEFAULT_DATABASE_URL } from '../config'

export default createDataSource({ databaseUrl: process.env.DATABASE_URL || DEFAULT_DATABASE_URL })
