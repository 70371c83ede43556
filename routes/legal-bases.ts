import { legalBases } from '../src/register/model'
import { crudRoutes } from './crud'

export default crudRoutes(legalBases)
